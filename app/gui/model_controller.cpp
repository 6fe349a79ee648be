#include "app/gui/model_controller.h"

#include "app/gui/services.h"
#include "app/gui/settings_controller.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QQmlEngine>
#include <QHash>
#include <QSettings>
#include <QThread>
#include <QUrl>

#include <memory>

namespace penser::gui {

namespace {

constexpr auto kRecentKey = "models/recent";

QString to_local_path(const QVariant& v) {
  if (v.metaType() == QMetaType::fromType<QUrl>()) {
    const QUrl url = v.toUrl();
    return url.isLocalFile() ? url.toLocalFile() : url.toString();
  }
  QString s = v.toString().trimmed();
  if (s.startsWith(QLatin1String("file:"))) s = QUrl(s).toLocalFile();
  return s;
}

// The list QML sees: the stored entries plus what is only true now (does the file still exist, its size).
QVariantMap view_of(const QVariantMap& stored) {
  QVariantMap m;
  const QString path = stored.value(QStringLiteral("path")).toString();
  const qint64 bytes = stored.value(QStringLiteral("bytes")).toLongLong();
  m[QStringLiteral("path")] = path;
  m[QStringLiteral("name")] = stored.value(QStringLiteral("name")).toString();
  m[QStringLiteral("size")] = bytes > 0 ? ModelController::formatBytes(bytes) : QString();
  m[QStringLiteral("sizeBytes")] = bytes;
  m[QStringLiteral("lastUsed")] = QDateTime::fromMSecsSinceEpoch(stored.value(QStringLiteral("lastUsed")).toLongLong());
  m[QStringLiteral("exists")] = true;  // until checkRecentFiles() has looked (off the GUI thread)
  return m;
}

QVariantMap stored_of(const QVariantMap& view) {
  QVariantMap m;
  m[QStringLiteral("path")] = view.value(QStringLiteral("path"));
  m[QStringLiteral("name")] = view.value(QStringLiteral("name"));
  m[QStringLiteral("bytes")] = view.value(QStringLiteral("sizeBytes"));
  m[QStringLiteral("lastUsed")] = view.value(QStringLiteral("lastUsed")).toDateTime().toMSecsSinceEpoch();
  return m;
}

}  // namespace

ModelController::ModelController(Engine* engine, SettingsController* settings, QObject* parent)
    : QObject(parent), engine_(engine), settings_(settings) {
  loadRecent();
  connect(engine_, &Engine::loadProgress, this, [this](double f, const QString& stage) {
    if (state_ == Loading) setProgress(f, stage);
  });
  connect(engine_, &Engine::loaded, this, [this](const ModelInfo& info) {
    info_ = info;
    requested_path_ = info.path;
    setError(QString());
    setNotice(info.notice);
    setProgress(1.0, QString());
    rememberRecent(info);
    emit modelChanged();
    setState(Ready);
  });
  connect(engine_, &Engine::loadFailed, this, [this](const QString& error, bool cancelled) {
    clearModel();
    setProgress(0, QString());
    if (cancelled) {
      setError(QString());
      setState(Empty);
    } else {
      setError(error);
      setState(Failed);
    }
  });
  // The GPU was lost under the model and Engine loads it again: the usual load progress, then Ready.
  connect(engine_, &Engine::reloading, this, [this] {
    clearModel();
    setError(QString());
    setNotice(QString());
    setProgress(0, tr("The GPU stopped responding: loading the model again…"));
    setState(Loading);
  });
  connect(engine_, &Engine::unloaded, this, [this] {
    // A load unloads the previous model first: that is part of Loading, not a change of state.
    if (state_ == Loading) return;
    clearModel();
    if (state_ == Ready) setState(Empty);
  });
}

ModelController* ModelController::create(QQmlEngine*, QJSEngine*) {
  Services* s = Services::instance();
  if (!s) qFatal("penser: create gui::Services before the QML engine loads a page that uses Models");
  QQmlEngine::setObjectOwnership(&s->models(), QQmlEngine::CppOwnership);
  return &s->models();
}

QString ModelController::formatParameters(qint64 n) {
  if (n <= 0) return QString();
  const QLocale locale;
  if (n >= 1'000'000'000) return QStringLiteral("%1 B").arg(locale.toString(double(n) / 1e9, 'f', 1));
  if (n >= 1'000'000) return QStringLiteral("%1 M").arg(locale.toString(double(n) / 1e6, 'f', 0));
  if (n >= 1'000) return QStringLiteral("%1 K").arg(locale.toString(double(n) / 1e3, 'f', 0));
  return locale.toString(n);
}

QString ModelController::formatBytes(qint64 bytes) { return QLocale().formattedDataSize(bytes, 2); }

QString ModelController::parameters() const { return formatParameters(info_.parameters); }

QString ModelController::fileSize() const { return info_.file_bytes > 0 ? formatBytes(info_.file_bytes) : QString(); }

void ModelController::open(const QVariant& url) {
  const QString path = to_local_path(url);
  if (path.isEmpty()) {
    setError(tr("No file was given: choose a .gguf model file."));
    setState(Failed);
    return;
  }
  requested_path_ = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
  clearModel();
  setError(QString());
  setNotice(QString());
  setProgress(0, tr("Opening the file…"));
  setState(Loading);
  LoadRequest request;
  if (settings_) {
    request = settings_->loadRequest(requested_path_);
  } else {
    request.path = requested_path_;
  }
  engine_->load(request);
}

void ModelController::cancelLoad() {
  if (state_ == Loading) engine_->cancelLoad();
}

void ModelController::unload() {
  if (state_ == Loading) engine_->cancelLoad();
  engine_->unload();
  clearModel();
  setNotice(QString());
  setError(QString());
  setProgress(0, QString());
  setState(Empty);
}

void ModelController::reload() {
  const QString path = modelPath();
  if (path.isEmpty()) return;
  open(path);
}

void ModelController::removeRecent(const QString& path) {
  QVariantList kept;
  for (const QVariant& v : recent_) {
    if (v.toMap().value(QStringLiteral("path")).toString() != path) kept.push_back(v);
  }
  if (kept.size() == recent_.size()) return;
  saveRecent(kept);
}

void ModelController::setState(State s) {
  if (state_ == s) return;
  state_ = s;
  emit stateChanged();
}

void ModelController::setError(const QString& e) {
  if (error_ == e) return;
  error_ = e;
  emit errorChanged();
}

void ModelController::setNotice(const QString& n) {
  if (notice_ == n) return;
  notice_ = n;
  emit noticeChanged();
}

void ModelController::setProgress(double fraction, const QString& stage) {
  if (progress_ == fraction && stage_ == stage) return;
  progress_ = fraction;
  stage_ = stage;
  emit progressChanged();
}

void ModelController::clearModel() {
  if (info_.path.isEmpty() && info_.name.isEmpty()) return;
  info_ = ModelInfo{};
  emit modelChanged();
}

void ModelController::rememberRecent(const ModelInfo& info) {
  QVariantMap entry;
  entry[QStringLiteral("path")] = info.path;
  entry[QStringLiteral("name")] = info.name;
  entry[QStringLiteral("sizeBytes")] = info.file_bytes;
  entry[QStringLiteral("lastUsed")] = QDateTime::currentDateTime();
  QVariantList list{entry};
  for (const QVariant& v : recent_) {
    if (list.size() >= kMaxRecent) break;
    if (v.toMap().value(QStringLiteral("path")).toString() != info.path) list.push_back(v);
  }
  saveRecent(list);
}

void ModelController::loadRecent() {
  recent_.clear();
  const QVariantList stored = QSettings().value(kRecentKey).toList();
  for (const QVariant& v : stored) {
    const QVariantMap m = v.toMap();
    if (m.value(QStringLiteral("path")).toString().isEmpty()) continue;
    recent_.push_back(view_of(m));
    if (recent_.size() >= kMaxRecent) break;
  }
  checkRecentFiles();
}

void ModelController::saveRecent(const QVariantList& list) {
  QVariantList stored;
  for (const QVariant& v : list) stored.push_back(stored_of(v.toMap()));
  QSettings().setValue(kRecentKey, stored);
  // Keep what is known about each file until the check below says otherwise.
  QHash<QString, bool> known;
  for (const QVariant& v : recent_) {
    const QVariantMap m = v.toMap();
    known.insert(m.value(QStringLiteral("path")).toString(), m.value(QStringLiteral("exists")).toBool());
  }
  recent_.clear();
  for (const QVariant& v : stored) {
    QVariantMap m = view_of(v.toMap());
    m[QStringLiteral("exists")] = known.value(m.value(QStringLiteral("path")).toString(), true);
    recent_.push_back(m);
  }
  emit recentModelsChanged();
  checkRecentFiles();
}

void ModelController::checkRecentFiles() {
  // A stat can hang on a sleeping disk or a network share: never on the GUI thread.
  QStringList paths;
  for (const QVariant& v : recent_) paths << v.toMap().value(QStringLiteral("path")).toString();
  if (paths.isEmpty()) return;
  auto exists = std::make_shared<QHash<QString, bool>>();
  QThread* thread = QThread::create([paths, exists] {
    for (const QString& p : paths) exists->insert(p, QFileInfo(p).isFile());
  });
  connect(thread, &QThread::finished, thread, &QObject::deleteLater);
  connect(thread, &QThread::finished, this, [this, exists] {
    bool changed = false;
    for (QVariant& v : recent_) {
      QVariantMap m = v.toMap();
      const auto it = exists->constFind(m.value(QStringLiteral("path")).toString());
      if (it == exists->constEnd() || m.value(QStringLiteral("exists")).toBool() == *it) continue;
      m[QStringLiteral("exists")] = *it;
      v = m;
      changed = true;
    }
    if (changed) emit recentModelsChanged();
  });
  thread->start();
}

}  // namespace penser::gui
