// Services: everything the window talks to, created before the QML engine and destroyed after it.
//
// It owns the storage thread (AsyncStore on <dataFolder>/conversations.sqlite, opened with open_or_fresh),
// the engine thread (Engine) and every controller that QML sees as a singleton of module Penser.Gui.
// Each controller's static create() returns the instance held here (C++ ownership), so there is exactly one
// Services alive at a time: Services::instance().
//
// Destruction order matters and is the reverse of the member order below: the controllers go first (Chat
// saves a running answer as stopped, Conversations commits a pending delete), then the engine (stops and
// joins its thread), then the store (runs every queued write, then closes the database).
#pragma once

#include "app/core/async_store.h"

#include <QObject>
#include <QString>

#include <memory>

namespace penser::gui {

class Engine;
class SettingsController;
class ModelController;
class ChatController;
class ConversationListModel;
class SearchModel;
class ExportController;
class Markdown;
class StallProbe;

class Services : public QObject {
  Q_OBJECT
 public:
  // dataFolder: where conversations.sqlite lives. Empty: the Settings controller's dataFolder when the user
  // chose one, else QStandardPaths::AppDataLocation (organisation and application "Penser").
  explicit Services(const QString& dataFolder = {}, QObject* parent = nullptr);
  ~Services() override;

  // The one alive, or nullptr before it is created / after it is destroyed.
  static Services* instance();
  static QString defaultDataFolder();

  const QString& dataFolder() const { return data_folder_; }
  QString databasePath() const;  // <dataFolder>/conversations.sqlite, or the fresh file open_or_fresh chose

  // The store is opened asynchronously; storeReady() is true once it is open. Work queued before that runs
  // after the open (AsyncStore keeps the order), so callers need not wait.
  bool storeReady() const { return store_ready_; }
  QString storeError() const { return store_error_; }  // when the database could not be opened at all

  app::AsyncStore& store() { return *store_; }
  Engine& engine() { return *engine_; }
  SettingsController& settings() { return *settings_; }
  ModelController& models() { return *models_; }
  ChatController& chat() { return *chat_; }
  ConversationListModel& conversations() { return *conversations_; }
  SearchModel& search() { return *search_; }
  ExportController& exporter() { return *exporter_; }
  Markdown& markdown() { return *markdown_; }
  // With PENSER_STALL_LOG=1 in the environment: the GUI-thread stall probe (else nullptr).
  StallProbe* stallProbe() { return probe_.get(); }

  // Commits what must not be lost at quit: the running answer (saved as stopped), pending deletes.
  // Called from the destructor and on QCoreApplication::aboutToQuit; safe to call twice.
  void shutdown();

 signals:
  // The database is open (ok) or could not be opened (error). A refused file replaced by a fresh database
  // is ok with `problem` set: a sentence for the window to show (also emitted as Chat.noticeOccurred).
  void storeOpened(bool ok, const QString& problem);

 private:
  QString data_folder_;
  QString db_path_;
  bool store_ready_ = false;
  QString store_error_;
  bool shut_down_ = false;

  // Member order = construction order; destruction runs backwards (see the comment at the top).
  std::unique_ptr<app::AsyncStore> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<SettingsController> settings_;
  std::unique_ptr<ModelController> models_;
  std::unique_ptr<Markdown> markdown_;
  std::unique_ptr<ConversationListModel> conversations_;
  std::unique_ptr<SearchModel> search_;
  std::unique_ptr<ExportController> exporter_;
  std::unique_ptr<ChatController> chat_;
  std::unique_ptr<StallProbe> probe_;
};

}  // namespace penser::gui
