#include "app/gui/services.h"

#include "app/gui/chat_controller.h"
#include "app/gui/conversation_list_model.h"
#include "app/gui/engine.h"
#include "app/gui/export_controller.h"
#include "app/gui/markdown.h"
#include "app/gui/model_controller.h"
#include "app/gui/search_model.h"
#include "app/gui/settings_controller.h"
#include "app/gui/stall_probe.h"

#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>

namespace penser::gui {
namespace {
Services* g_instance = nullptr;
}

Services* Services::instance() { return g_instance; }

QString Services::defaultDataFolder() {
  // Store::default_path's folder: <AppDataLocation> for organisation and application "Penser".
  return QFileInfo(app::Store::default_path()).absolutePath();
}

QString Services::databasePath() const { return db_path_; }

Services::Services(const QString& dataFolder, QObject* parent) : QObject(parent) {
  PENSER_ASSERT(g_instance == nullptr);  // one Services at a time: the QML singletons are its members
  g_instance = this;

  store_ = std::make_unique<app::AsyncStore>();
  engine_ = std::make_unique<Engine>();
  settings_ = std::make_unique<SettingsController>();
  data_folder_ = !dataFolder.isEmpty() ? dataFolder : settings_->dataFolder();
  if (data_folder_.isEmpty()) data_folder_ = defaultDataFolder();
  data_folder_ = QDir::cleanPath(QDir(data_folder_).absolutePath());
  db_path_ = QDir(data_folder_).filePath(QStringLiteral("conversations.sqlite"));
  models_ = std::make_unique<ModelController>(engine_.get(), settings_.get());
  markdown_ = std::make_unique<Markdown>();
  conversations_ = std::make_unique<ConversationListModel>(*store_);
  search_ = std::make_unique<SearchModel>(*store_);
  exporter_ = std::make_unique<ExportController>(*store_);
  chat_ = std::make_unique<ChatController>(*store_, *engine_);

  SettingsController* settings = settings_.get();
  chat_->setSettingsSource([settings] { return settings->sampling(); },
                           [settings] { return settings->systemPrompt(); });

  ChatController* chat = chat_.get();
  ConversationListModel* list = conversations_.get();
  connect(chat, &ChatController::conversationsChanged, list, &ConversationListModel::refresh);
  connect(chat, &ChatController::conversationIdChanged, list, [chat, list] { list->setCurrentId(chat->conversationId()); });
  connect(list, &ConversationListModel::renamed, chat, &ChatController::conversationRenamed);
  connect(list, &ConversationListModel::removing, chat, &ChatController::conversationRemoved);
  connect(list, &ConversationListModel::errorOccurred, chat, &ChatController::errorOccurred);
  connect(search_.get(), &SearchModel::errorOccurred, chat, &ChatController::errorOccurred);

  if (qEnvironmentVariableIntValue("PENSER_STALL_LOG") > 0) {
    probe_ = std::make_unique<StallProbe>();
    probe_->setLogThreshold(16);
    probe_->start();
  }

  // The folder is created here (cheap, and an error is the same sentence either way); the database is
  // opened, checked and upgraded on the storage thread. Everything queued meanwhile runs after it.
  if (!QDir().mkpath(data_folder_)) {
    store_error_ = tr("Penser cannot create its data folder %1. Choose another folder in Settings.")
                       .arg(QDir::toNativeSeparators(data_folder_));
  }
  store_->open(db_path_, this, [this](Status st, const QString& problem) {
    if (!st) {
      store_error_ = tr("Your conversations cannot be opened (%1): %2")
                         .arg(QDir::toNativeSeparators(db_path_), QString::fromStdString(st.error().message));
      emit storeOpened(false, store_error_);
      emit chat_->errorOccurred(store_error_);
      return;
    }
    store_ready_ = true;
    emit storeOpened(true, problem);
    if (!problem.isEmpty()) emit chat_->noticeOccurred(problem);
  });
  conversations_->refresh();

  if (QCoreApplication* app = QCoreApplication::instance()) {
    connect(app, &QCoreApplication::aboutToQuit, this, &Services::shutdown);
  }
}

void Services::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  chat_->shutdown();
  conversations_->commitPendingRemoval();
  if (probe_) {
    probe_->stop();
    qInfo("penser: GUI-thread latency: %s", qPrintable(probe_->summary()));
  }
}

Services::~Services() {
  shutdown();
  // Controllers first (their last writes are queued on the store), then the engine (joins its thread),
  // then the store (runs what is queued, closes the database, joins its thread).
  probe_.reset();
  chat_.reset();
  exporter_.reset();
  search_.reset();
  conversations_.reset();
  markdown_.reset();
  models_.reset();
  settings_.reset();
  engine_.reset();
  store_.reset();
  g_instance = nullptr;
}

}  // namespace penser::gui
