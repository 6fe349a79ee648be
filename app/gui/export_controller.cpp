#include "app/gui/export_controller.h"

#include "app/core/export.h"
#include "app/gui/services.h"

#include <QDir>
#include <QFileInfo>
#include <QQmlEngine>
#include <QUrl>

namespace penser::gui {

ExportController::ExportController(app::AsyncStore& store, QObject* parent) : QObject(parent), store_(store) {}

ExportController* ExportController::create(QQmlEngine*, QJSEngine*) {
  Services* s = Services::instance();
  if (!s) qFatal("penser: create gui::Services before the QML engine loads a page that uses Exporter");
  QQmlEngine::setObjectOwnership(&s->exporter(), QQmlEngine::CppOwnership);
  return &s->exporter();
}

QVariantList ExportController::formats() const {
  auto row = [](const char* key, const QString& name) {
    return QVariantMap{{QStringLiteral("key"), QLatin1String(key)},
                       {QStringLiteral("name"), name},
                       {QStringLiteral("suffix"), QLatin1String(key)}};
  };
  return {row("md", tr("Markdown")), row("json", tr("JSON (everything, can be imported)")),
          row("html", tr("Web page (HTML)")), row("pdf", tr("PDF")), row("txt", tr("Plain text"))};
}

QString ExportController::localPath(const QVariant& url) {
  if (url.canConvert<QUrl>() && url.userType() == QMetaType::QUrl) return url.toUrl().toLocalFile();
  const QString text = url.toString();
  if (text.startsWith(QLatin1String("file:"))) return QUrl(text).toLocalFile();
  return text;
}

void ExportController::exportConversation(qint64 id, const QString& format, const QVariant& url,
                                          bool includeThinking) {
  if (id <= 0) {
    emit finished(false, tr("There is nothing to export yet: send a message first."));
    return;
  }
  start({id}, format, url, includeThinking);
}

void ExportController::exportAll(const QString& format, const QVariant& url, bool includeThinking) {
  start({}, format, url, includeThinking);
}

void ExportController::start(QList<qint64> ids, const QString& format, const QVariant& url, bool include_thinking) {
  const std::optional<app::ExportFormat> f = app::export_format_from_string(format);
  if (!f) {
    emit finished(false, tr("Penser cannot export to \"%1\": choose Markdown, JSON, HTML, PDF or plain text.")
                             .arg(format));
    return;
  }
  QString path = localPath(url);
  if (path.isEmpty()) {
    emit finished(false, tr("Choose a file to export to."));
    return;
  }
  if (QFileInfo(path).suffix().isEmpty()) path += QLatin1Char('.') + format.toLower();
  ++busy_;
  if (busy_ == 1) emit busyChanged();
  app::ExportOptions options;
  options.include_thinking = include_thinking;
  const app::ExportFormat fmt = *f;
  store_.run(
      [ids, fmt, options, path](app::Store& s) -> Result<int> {
        PENSER_TRY(app::export_to_file(s, ids, fmt, options, path));
        if (!ids.isEmpty()) return int(ids.size());
        PENSER_ASSIGN_OR_RETURN(QList<app::Conversation> all, s.conversations());
        return int(all.size());
      },
      this, [this, path](Result<int> r) {
        --busy_;
        if (busy_ == 0) emit busyChanged();
        if (!r) {
          emit finished(false, tr("The export failed: %1").arg(QString::fromStdString(r.error().message)));
          return;
        }
        emit finished(true, tr("Exported %n conversation(s) to %1.", nullptr, *r).arg(QDir::toNativeSeparators(path)));
      });
}

}  // namespace penser::gui
