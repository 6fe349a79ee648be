// The message tree: every edit or regeneration is a sibling, never an overwrite. A child is always stored
// after its parent (insert and import both guarantee it), so ordering a path by id orders it root first.
#include "app/core/store.h"
#include "app/core/store_rows.h"

namespace penser::app {
namespace {
constexpr const char* kPathSql =
    "WITH RECURSIVE path(id) AS ("
    "  SELECT ?1 UNION ALL SELECT m.parent_id FROM messages m JOIN path p ON m.id = p.id"
    "  WHERE m.parent_id IS NOT NULL) "
    "SELECT " PENSER_MESSAGE_COLUMNS " FROM messages WHERE id IN path ORDER BY id";
}  // namespace

Result<QList<Message>> Store::current_path(qint64 conversation_id) const {
  PENSER_ASSIGN_OR_RETURN(Conversation c, conversation(conversation_id));
  qint64 leaf = c.current_leaf_id;
  if (leaf == 0) {
    // No branch chosen (its leaf was deleted): show the most recent message's branch.
    PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("SELECT max(id) FROM messages WHERE conversation_id = ?1"));
    s->bind(1, conversation_id);
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("reading the conversation"));
    leaf = row && !s->is_null(0) ? s->int64(0) : 0;
    s->reset();
    if (leaf == 0) return QList<Message>{};
  }
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(kPathSql));
  s->bind(1, leaf);
  QList<Message> out;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("reading the conversation"));
    if (!row) break;
    out << detail::read_message(*s);
  }
  return out;
}

Result<QList<qint64>> Store::siblings(qint64 message_id) const {
  PENSER_ASSIGN_OR_RETURN(Message m, message(message_id));
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "SELECT id FROM messages WHERE conversation_id = ?1 AND parent_id IS ?2 ORDER BY id"));
  s->bind(1, m.conversation_id).bind_id(2, m.parent_id);
  QList<qint64> out;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("reading the other versions of a message"));
    if (!row) break;
    out << s->int64(0);
  }
  return out;
}

Result<qint64> Store::show_branch(qint64 message_id) {
  PENSER_ASSIGN_OR_RETURN(Message m, message(message_id));
  // The newest descendant is a leaf: any child of it would be newer still.
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "WITH RECURSIVE below(id) AS ("
      "  SELECT ?1 UNION ALL SELECT m.id FROM messages m JOIN below b ON m.parent_id = b.id) "
      "SELECT max(id) FROM below"));
  s->bind(1, message_id);
  PENSER_ASSIGN_OR_RETURN(bool row, s->step("choosing the branch shown"));
  const qint64 leaf = row ? s->int64(0) : message_id;
  s->reset();
  PENSER_TRY(set_leaf(m.conversation_id, leaf));
  return leaf;
}

Result<qint64> Store::delete_message(qint64 message_id) {
  PENSER_ASSIGN_OR_RETURN(Message m, message(message_id));
  PENSER_ASSIGN_OR_RETURN(QList<qint64> sibs, siblings(message_id));
  sql::Transaction tx(*db_);
  PENSER_TRY(tx.begin("deleting the message"));
  // Children go by ON DELETE CASCADE; a leaf among them sets current_leaf_id to NULL (ON DELETE SET NULL).
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("DELETE FROM messages WHERE id = ?1"));
  s->bind(1, message_id);
  PENSER_TRY(s->run("deleting the message"));
  PENSER_ASSIGN_OR_RETURN(Conversation c, conversation(m.conversation_id));
  qint64 leaf = c.current_leaf_id;
  if (leaf == 0) {
    sibs.removeAll(message_id);
    const qint64 shown = !sibs.isEmpty() ? sibs.last() : m.parent_id;
    if (shown > 0) {
      PENSER_ASSIGN_OR_RETURN(leaf, show_branch(shown));
    }
  }
  PENSER_TRY(touch(m.conversation_id));
  PENSER_TRY(tx.commit("deleting the message"));
  return leaf;
}

}  // namespace penser::app
