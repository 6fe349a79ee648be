// ChatGPT's data export: conversations.json, a list of conversations whose messages form a tree in "mapping"
// (node id -> {id, message, parent, children}); "current_node" is the leaf shown. Edits and regenerations
// are sibling nodes, which become Penser branches. Nodes without visible text (the empty root, hidden system
// prompts, tool calls and their output) are skipped and their children attached to the nearest kept
// ancestor. Reasoning nodes ("thoughts") become the thinking of the next assistant answer.
#include "app/core/import.h"
#include "app/core/json_reader.h"

#include <QHash>
#include <QJsonDocument>
#include <QSet>
#include <QUuid>

#include <cmath>

namespace penser::app {
namespace detail {
Result<QJsonDocument> parse_document(const QByteArray& bytes);
}
using detail::JsonAt;

namespace {

// ChatGPT times are seconds since the epoch as floating point, or null.
Result<qint64> seconds_to_ms(const JsonAt& at, qint64 fallback) {
  if (!at.present()) return fallback;
  if (!at.value().isDouble()) return at.error(QStringLiteral("expected a time in seconds"));
  return static_cast<qint64>(std::llround(at.value().toDouble() * 1000.0));
}

struct NodeText {
  bool keep = false;
  QString role;
  QString text;
  QString thinking;  // from a "thoughts" node, passed on to the next answer
};

Result<NodeText> read_node_message(const JsonAt& msg) {
  NodeText out;
  if (!msg.present()) return out;  // the root node carries no message
  PENSER_TRY(msg.object());
  PENSER_ASSIGN_OR_RETURN(QString role, msg.field("author").field("role").string());
  const JsonAt content = msg.field("content");
  PENSER_TRY(content.object());
  PENSER_ASSIGN_OR_RETURN(QString type, content.field("content_type").string());
  if (msg.field("metadata").field("is_visually_hidden_from_conversation").value().toBool()) return out;

  if (type == QLatin1String("thoughts")) {
    const JsonAt thoughts = content.field("thoughts");
    PENSER_ASSIGN_OR_RETURN(QJsonArray list, thoughts.array());
    QStringList parts;
    for (qsizetype i = 0; i < list.size(); ++i) {
      PENSER_ASSIGN_OR_RETURN(QString summary, thoughts.item(i).field("summary").string_or({}));
      PENSER_ASSIGN_OR_RETURN(QString body, thoughts.item(i).field("content").string_or({}));
      const QString joined = summary.isEmpty() ? body : (body.isEmpty() ? summary : summary + "\n" + body);
      if (!joined.trimmed().isEmpty()) parts << joined.trimmed();
    }
    out.thinking = parts.join(QStringLiteral("\n\n"));
    return out;
  }
  if (role != QLatin1String("user") && role != QLatin1String("assistant") && role != QLatin1String("system")) {
    return out;  // tool results
  }
  PENSER_ASSIGN_OR_RETURN(QString recipient, msg.field("recipient").string_or(QStringLiteral("all")));
  if (recipient != QLatin1String("all")) return out;  // a call to a tool (code for the Python tool, a search)
  QString text;
  if (type == QLatin1String("text") || type == QLatin1String("multimodal_text")) {
    const JsonAt parts_at = content.field("parts");
    PENSER_ASSIGN_OR_RETURN(QJsonArray parts, parts_at.array());
    QStringList pieces;
    for (qsizetype i = 0; i < parts.size(); ++i) {
      const QJsonValue p = parts.at(i);
      if (p.isString()) {
        if (!p.toString().isEmpty()) pieces << p.toString();
      } else if (p.isObject()) {
        pieces << QStringLiteral("[attachment]");  // images and files are not in conversations.json
      } else if (!p.isNull()) {
        return parts_at.item(i).error(QStringLiteral("expected a text or an attachment"));
      }
    }
    text = pieces.join(QStringLiteral("\n\n"));
  } else if (type == QLatin1String("code")) {
    PENSER_ASSIGN_OR_RETURN(QString code, content.field("text").string_or({}));
    PENSER_ASSIGN_OR_RETURN(QString lang, content.field("language").string_or({}));
    if (lang == QLatin1String("unknown")) lang.clear();
    text = QStringLiteral("```") + lang + "\n" + code + QStringLiteral("\n```");
  } else {
    return out;  // browsing displays, execution output, custom-instruction context, reasoning recaps
  }
  if (text.trimmed().isEmpty()) return out;
  out.keep = true;
  out.role = role;
  out.text = text;
  return out;
}

Result<ConversationRecord> read_conversation(const JsonAt& at) {
  PENSER_ASSIGN_OR_RETURN(QJsonObject obj, at.object());
  ConversationRecord r;
  Conversation& c = r.conversation;
  PENSER_ASSIGN_OR_RETURN(c.title, at.field("title").string_or({}));
  c.title_is_custom = !c.title.isEmpty();
  PENSER_ASSIGN_OR_RETURN(c.created_at, seconds_to_ms(at.field("create_time"), 0));
  PENSER_ASSIGN_OR_RETURN(c.updated_at, seconds_to_ms(at.field("update_time"), c.created_at));
  PENSER_ASSIGN_OR_RETURN(c.model_name, at.field("default_model_slug").string_or({}));
  PENSER_ASSIGN_OR_RETURN(QString id, at.field("conversation_id").string_or({}));
  if (id.isEmpty()) {
    PENSER_ASSIGN_OR_RETURN(id, at.field("id").string_or({}));
  }
  // The prefix keeps ChatGPT's ids apart from Penser's; the same file imported twice is recognised.
  c.uuid = id.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : QStringLiteral("chatgpt:") + id;

  const JsonAt mapping_at = at.field("mapping");
  PENSER_ASSIGN_OR_RETURN(QJsonObject mapping, mapping_at.object());
  // Check every node's links before walking the tree.
  QStringList roots;
  for (auto it = mapping.begin(); it != mapping.end(); ++it) {
    const JsonAt node = mapping_at.field(it.key());
    PENSER_TRY(node.object());
    PENSER_ASSIGN_OR_RETURN(QString parent, node.field("parent").string_or({}));
    if (parent.isEmpty()) {
      roots << it.key();
    } else if (!mapping.contains(parent)) {
      return node.field("parent").error(QStringLiteral("'%1' is not a node of this conversation").arg(parent));
    }
    const JsonAt children = node.field("children");
    if (children.present()) {
      PENSER_ASSIGN_OR_RETURN(QJsonArray list, children.array());
      for (qsizetype i = 0; i < list.size(); ++i) {
        PENSER_ASSIGN_OR_RETURN(QString child, children.item(i).string());
        if (!mapping.contains(child)) {
          return children.item(i).error(QStringLiteral("'%1' is not a node of this conversation").arg(child));
        }
      }
    }
  }
  if (roots.isEmpty() && !mapping.isEmpty()) {
    return mapping_at.error(QStringLiteral("the message tree has no root (every node has a parent: a cycle)"));
  }

  // Depth-first from the roots, children in their listed order: parents are numbered before children.
  struct Pending {
    QString node;
    qint64 kept_parent;  // key of the nearest kept ancestor, 0 for none
    QString thinking;    // reasoning waiting for the next answer
  };
  QHash<QString, qint64> kept_key;  // node id -> key of itself or its nearest kept ancestor
  QSet<QString> visited;
  QList<Pending> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.append({*it, 0, {}});
  qint64 next_key = 1;
  while (!stack.isEmpty()) {
    Pending p = stack.takeLast();
    if (visited.contains(p.node)) {
      return mapping_at.field(p.node).error(QStringLiteral("the node is reached twice: the tree has a cycle"));
    }
    visited.insert(p.node);
    const JsonAt node = mapping_at.field(p.node);
    const JsonAt msg = node.field("message");
    PENSER_ASSIGN_OR_RETURN(NodeText nt, read_node_message(msg));
    qint64 key = p.kept_parent;
    QString thinking = p.thinking;
    if (!nt.thinking.isEmpty()) thinking = thinking.isEmpty() ? nt.thinking : thinking + "\n\n" + nt.thinking;
    if (nt.keep) {
      Message m;
      m.id = next_key++;
      m.parent_id = p.kept_parent;
      m.role = nt.role;
      m.content = nt.text;
      if (m.role == QLatin1String("assistant")) {
        m.thinking = thinking;
        thinking.clear();
      }
      PENSER_ASSIGN_OR_RETURN(m.created_at, seconds_to_ms(msg.field("create_time"), c.created_at));
      PENSER_ASSIGN_OR_RETURN(m.model, msg.field("metadata").field("model_slug").string_or({}));
      PENSER_ASSIGN_OR_RETURN(QString status, msg.field("status").string_or({}));
      const QString finish = msg.field("metadata").field("finish_details").field("type").value().toString();
      if (finish == QLatin1String("stop")) m.finish_reason = QStringLiteral("stop");
      if (finish == QLatin1String("max_tokens")) m.finish_reason = QStringLiteral("length");
      if (finish == QLatin1String("interrupted")) {
        m.finish_reason = QStringLiteral("user");
        m.status = MessageStatus::Stopped;
      }
      if (status == QLatin1String("in_progress")) m.status = MessageStatus::Interrupted;
      key = m.id;
      r.messages << m;
    }
    kept_key.insert(p.node, key);
    const QJsonArray children = node.field("children").value().toArray();
    for (qsizetype i = children.size() - 1; i >= 0; --i) stack.append({children.at(i).toString(), key, thinking});
  }
  if (visited.size() != mapping.size()) {
    return mapping_at.error(QStringLiteral("%1 nodes are not reachable from the root (a cycle)")
                                .arg(mapping.size() - visited.size()));
  }
  PENSER_ASSIGN_OR_RETURN(QString current, at.field("current_node").string_or({}));
  if (!current.isEmpty()) {
    if (!kept_key.contains(current)) {
      return at.field("current_node").error(QStringLiteral("'%1' is not a node of this conversation").arg(current));
    }
    c.current_leaf_id = kept_key.value(current);
  }
  if (c.title.isEmpty()) {
    for (const Message& m : r.messages) {
      if (m.role == QLatin1String("user")) {
        c.title = m.content.simplified().left(60);
        break;
      }
    }
  }
  return r;
}

}  // namespace

Result<QList<ConversationRecord>> parse_chatgpt_json(const QByteArray& bytes) {
  PENSER_ASSIGN_OR_RETURN(QJsonDocument doc, detail::parse_document(bytes));
  // The export is a list; a single conversation object is accepted too.
  QJsonArray list;
  if (doc.isArray()) {
    list = doc.array();
  } else {
    list.append(doc.object());
  }
  const JsonAt root(list, QString());
  QList<ConversationRecord> out;
  for (qsizetype i = 0; i < list.size(); ++i) {
    auto r = read_conversation(root.item(i));
    if (!r) {
      const QString title = list.at(i).toObject().value(QStringLiteral("title")).toString();
      return make_error("conversation {}{}: {}", i + 1,
                        title.isEmpty() ? std::string() : " (\"" + title.toStdString() + "\")", r.error().message);
    }
    out << std::move(*r);
  }
  return out;
}

}  // namespace penser::app
