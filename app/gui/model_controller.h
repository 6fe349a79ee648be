// ModelController (QML singleton `Models`): the model panel's state machine over Engine's load signals.
//
//   Empty --open()--> Loading --loaded--> Ready --unload()--> Empty
//                        |  \--loadFailed--> Failed (error set) --open()--> Loading ...
//                        \--cancelLoad()--> Empty (the previous model was already unloaded)
//
// Facts of the loaded model are texts ready to show ("1.8 B", "Q4_K_M", "1.04 GiB"). Recent models are
// kept in QSettings (models/recent: newest first, at most 10); `exists` is checked off the GUI thread when
// the list changes.
// Contract: docs/gui.md.
#pragma once

#include "app/gui/engine.h"

#include <QObject>
#include <QString>
#include <QVariant>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

class QQmlEngine;
class QJSEngine;

namespace penser::gui {

class SettingsController;

class ModelController : public QObject {
  Q_OBJECT
  QML_NAMED_ELEMENT(Models)
  QML_SINGLETON
  Q_PROPERTY(State state READ state NOTIFY stateChanged)
  Q_PROPERTY(double progress READ progress NOTIFY progressChanged)
  Q_PROPERTY(QString stage READ stage NOTIFY progressChanged)
  Q_PROPERTY(QString error READ error NOTIFY errorChanged)
  Q_PROPERTY(QString notice READ notice NOTIFY noticeChanged)
  Q_PROPERTY(QString modelName READ modelName NOTIFY modelChanged)
  Q_PROPERTY(QString modelPath READ modelPath NOTIFY modelChanged)
  Q_PROPERTY(QString architecture READ architecture NOTIFY modelChanged)
  Q_PROPERTY(QString parameters READ parameters NOTIFY modelChanged)
  Q_PROPERTY(QString quantization READ quantization NOTIFY modelChanged)
  Q_PROPERTY(QString fileSize READ fileSize NOTIFY modelChanged)
  Q_PROPERTY(int contextLength READ contextLength NOTIFY modelChanged)
  Q_PROPERTY(int trainedContext READ trainedContext NOTIFY modelChanged)
  Q_PROPERTY(QString backend READ backend NOTIFY modelChanged)
  Q_PROPERTY(QString device READ device NOTIFY modelChanged)
  Q_PROPERTY(QString templateWarning READ templateWarning NOTIFY modelChanged)
  Q_PROPERTY(QVariantList recentModels READ recentModels NOTIFY recentModelsChanged)

 public:
  enum State { Empty, Loading, Ready, Failed };
  Q_ENUM(State)

  // settings may be null (tests): then loads use the engine's defaults (backend auto, n_ctx auto).
  ModelController(Engine* engine, SettingsController* settings, QObject* parent = nullptr);
  static ModelController* create(QQmlEngine*, QJSEngine*);

  State state() const { return state_; }
  double progress() const { return progress_; }
  QString stage() const { return stage_; }
  QString error() const { return error_; }
  QString notice() const { return notice_; }
  QString modelName() const { return info_.name; }
  QString modelPath() const { return info_.path.isEmpty() ? requested_path_ : info_.path; }
  QString architecture() const { return info_.architecture; }
  QString parameters() const;
  QString quantization() const { return info_.quantization; }
  QString fileSize() const;
  int contextLength() const { return info_.n_ctx; }
  int trainedContext() const { return info_.n_ctx_train; }
  QString backend() const { return info_.backend; }
  QString device() const { return info_.device; }
  QString templateWarning() const { return info_.template_warning; }
  QVariantList recentModels() const { return recent_; }

  // A QUrl (file dialog, drag and drop) or a path string ("file:" URLs too).
  Q_INVOKABLE void open(const QVariant& url);
  Q_INVOKABLE void cancelLoad();
  Q_INVOKABLE void unload();
  Q_INVOKABLE void reload();  // the same file again, with the current backend/context settings
  Q_INVOKABLE void removeRecent(const QString& path);

  static QString formatParameters(qint64 n);  // 1777088000 -> "1.8 B", 494032768 -> "494 M"
  static QString formatBytes(qint64 bytes);
  static constexpr int kMaxRecent = 10;

 signals:
  void stateChanged();
  void progressChanged();
  void errorChanged();
  void noticeChanged();
  void modelChanged();
  void recentModelsChanged();

 private:
  void setState(State s);
  void setError(const QString& e);
  void setNotice(const QString& n);
  void setProgress(double fraction, const QString& stage);
  void clearModel();
  void rememberRecent(const ModelInfo& info);
  void loadRecent();
  void saveRecent(const QVariantList& list);
  void checkRecentFiles();  // fills `exists` from a short-lived thread

  Engine* engine_;
  SettingsController* settings_;
  State state_ = Empty;
  double progress_ = 0;
  QString stage_, error_, notice_;
  QString requested_path_;  // the file of the last open(), for reload() and for the panel while loading
  ModelInfo info_;
  QVariantList recent_;
};

}  // namespace penser::gui
