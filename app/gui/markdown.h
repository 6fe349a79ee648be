// Markdown (QML singleton): splits an answer into prose and fenced code blocks, so the view renders prose
// with Text.MarkdownText and each code block in a monospace CodeBlock with its own copy button.
// Qt's Markdown renderer shows code in the body font and offers no per-block copy, hence the split.
#pragma once

#include <QAbstractListModel>
#include <QObject>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

class QQmlEngine;
class QJSEngine;

namespace penser::gui {

struct MarkdownBlock {
  QString kind;      // "text" or "code"
  QString text;      // prose as Markdown; code without its fences
  QString language;  // the fence's info string's first word ("cpp"), empty for text and bare fences
  bool closed = true;  // false for a code fence still open (an answer that is streaming)
};

// A fence opens with ``` or ~~~ (3 or more) indented at most 3 spaces and closes with the same character,
// at least as many, and nothing after it (CommonMark 4.5). An unclosed fence runs to the end of the text.
// Prose is further cut into paragraphs where a cut cannot change the rendering (see markdown.cpp), so a
// streaming answer re-lays out only its last paragraph. Blank lines around blocks are dropped.
QList<MarkdownBlock> split_markdown(const QString& text);

class Markdown : public QObject {
  Q_OBJECT
  QML_NAMED_ELEMENT(Markdown)
  QML_SINGLETON
 public:
  explicit Markdown(QObject* parent = nullptr) : QObject(parent) {}
  static Markdown* create(QQmlEngine*, QJSEngine*);

  // [{kind, text, language, closed}, ...]
  Q_INVOKABLE QVariantList blocks(const QString& text) const;
};

// MarkdownBlocks (QML type): the blocks of `text` as an item model that changes in place. When the text
// grows, the blocks that stayed equal send nothing, the last one sends dataChanged and new ones are
// inserted, so a Repeater over it keeps its items (a Repeater over a JS array or a count rebuilds every
// item whenever the count changes).
//   Repeater { model: MarkdownBlocks { text: root.content } delegate: ... required property string text }
class MarkdownBlocks : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  Q_PROPERTY(QString text READ text WRITE setText NOTIFY textChanged)
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
 public:
  enum Role { KindRole = Qt::UserRole + 1, TextRole, LanguageRole, ClosedRole };
  explicit MarkdownBlocks(QObject* parent = nullptr) : QAbstractListModel(parent) {}

  QString text() const { return text_; }
  void setText(const QString& text);
  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

 signals:
  void textChanged();
  void countChanged();

 private:
  QString text_;
  QList<MarkdownBlock> blocks_;
};

}  // namespace penser::gui
