// ExportController (QML singleton `Exporter`): one conversation or all of them to a file, through
// app/core's export_to_file on the storage thread (reading a thousand conversations and laying out a PDF
// take seconds; the window keeps drawing). The file appears complete or not at all.
#pragma once

#include "app/core/async_store.h"

#include <QObject>
#include <QVariant>
#include <QtQml/qqmlregistration.h>

class QQmlEngine;
class QJSEngine;

namespace penser::gui {

class ExportController : public QObject {
  Q_OBJECT
  QML_NAMED_ELEMENT(Exporter)
  QML_SINGLETON
  Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
  Q_PROPERTY(QVariantList formats READ formats CONSTANT)
 public:
  explicit ExportController(app::AsyncStore& store, QObject* parent = nullptr);
  static ExportController* create(QQmlEngine*, QJSEngine*);

  bool busy() const { return busy_ > 0; }
  // [{key: "md", name: "Markdown", suffix: "md"}, ...]
  QVariantList formats() const;

  // format: "md" | "json" | "html" | "pdf" | "txt"; url: a QUrl from a file dialog or a path string.
  // A path without a suffix gets the format's.
  Q_INVOKABLE void exportConversation(qint64 id, const QString& format, const QVariant& url, bool includeThinking);
  Q_INVOKABLE void exportAll(const QString& format, const QVariant& url, bool includeThinking);

  static QString localPath(const QVariant& url);

 signals:
  void busyChanged();
  void finished(bool ok, const QString& message);

 private:
  void start(QList<qint64> ids, const QString& format, const QVariant& url, bool include_thinking);

  app::AsyncStore& store_;
  int busy_ = 0;
};

}  // namespace penser::gui
