#include "corpus.h"

#include <QStringList>

#include <array>
#include <random>

namespace penser::test {
namespace {

struct Topic {
  const char* subject;
  std::array<const char*, 8> terms;
  const char* code_lang;
  const char* code;
};

// Subjects people ask a reasoning model about, with the words their answers use.
const std::array<Topic, 12> kTopics = {{
    {"binary search trees", {"node", "rotation", "balance factor", "in-order traversal", "AVL", "red-black", "height", "successor"},
     "cpp", "Node* rotate_left(Node* x) {\n  Node* y = x->right;\n  x->right = y->left;\n  y->left = x;\n  return y;\n}"},
    {"the Fourier transform", {"frequency", "spectrum", "convolution", "sampling", "Nyquist rate", "window", "phase", "aliasing"},
     "python", "import numpy as np\nspectrum = np.fft.rfft(signal * np.hanning(len(signal)))"},
    {"photosynthesis", {"chlorophyll", "light reactions", "Calvin cycle", "ATP", "NADPH", "stroma", "thylakoid", "carbon fixation"},
     "", ""},
    {"SQL query planning", {"index", "join order", "cardinality", "covering index", "B-tree", "query plan", "selectivity", "statistics"},
     "sql", "EXPLAIN QUERY PLAN\nSELECT name FROM users WHERE email = ?1;"},
    {"the French Revolution", {"Estates-General", "Bastille", "Robespierre", "Directory", "Jacobins", "constitution", "assignats", "Girondins"},
     "", ""},
    {"Rust ownership", {"borrow checker", "lifetime", "move semantics", "mutable reference", "Rc", "RefCell", "drop", "slice"},
     "rust", "fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {\n    if a.len() > b.len() { a } else { b }\n}"},
    {"compound interest", {"principal", "annual rate", "compounding period", "present value", "annuity", "amortization", "yield", "inflation"},
     "python", "def future_value(p, r, n, t):\n    return p * (1 + r / n) ** (n * t)"},
    {"prime numbers", {"sieve", "divisor", "modular arithmetic", "Fermat test", "factorization", "coprime", "twin primes", "Euler's totient"},
     "python", "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))"},
    {"Kubernetes deployments", {"pod", "replica set", "rolling update", "readiness probe", "service", "ingress", "namespace", "config map"},
     "yaml", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 3"},
    {"the immune system", {"antibody", "T cell", "antigen", "vaccine", "inflammation", "macrophage", "memory cell", "cytokine"},
     "", ""},
    {"gradient descent", {"learning rate", "loss function", "momentum", "Adam", "convergence", "saddle point", "mini-batch", "regularization"},
     "python", "for step in range(steps):\n    w -= lr * grad(loss, w)"},
    {"sourdough baking", {"starter", "hydration", "autolyse", "bulk fermentation", "levain", "crumb", "scoring", "proofing basket"},
     "", ""},
}};

const std::array<const char*, 6> kQuestionForms = {
    "Can you explain how %1 works, especially the part about %2?",
    "I'm confused about %2 in %1. Why does it matter?",
    "What is the difference between %2 and %3 when dealing with %1?",
    "Give me a short example of %2 in the context of %1.",
    "How would you teach %1 to a beginner, starting from %2?",
    "Is it true that %2 always improves things in %1?",
};

const std::array<const char*, 8> kThinkingForms = {
    "Okay, so the user is asking about %1. Let me start by recalling what %2 means.",
    "Hmm, I need to be careful here: %2 and %3 are related but not the same thing.",
    "Wait, maybe I should check an edge case first. What happens to %2 when the input is empty?",
    "Let me think step by step. First %2, then %3, and only then the general rule for %1.",
    "I remember that %3 is often confused with %2, so the answer should separate them clearly.",
    "So, putting it together: %2 explains most of the behaviour, %3 the rest.",
    "Actually, a concrete example will help more than a definition here.",
    "Let me double-check the numbers before answering, since %1 is easy to get subtly wrong.",
};

const std::array<const char*, 7> kAnswerForms = {
    "In %1, **%2** is the key idea: it determines how the rest of the process behaves.",
    "The short version: %2 handles the common case, while %3 covers the exceptions.",
    "A useful way to picture %2 is as a trade-off between speed and accuracy.",
    "People often mix up %2 and %3; the first is about structure, the second about change over time.",
    "If you remember one thing about %1, remember that %3 follows from %2.",
    "In practice, start with %2, measure, and only then reach for %3.",
    "This is why textbooks on %1 introduce %2 before %3.",
};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  QString fill(const char* form, const Topic& t) {
    const int a = pick(8);
    int b = pick(8);
    if (b == a) b = (b + 1) % 8;
    // Not QString::arg: a form may use fewer than three of the placeholders.
    QString s = QString::fromUtf8(form);
    s.replace(QLatin1String("%1"), QString::fromUtf8(t.subject));
    s.replace(QLatin1String("%2"), QString::fromUtf8(t.terms[a]));
    s.replace(QLatin1String("%3"), QString::fromUtf8(t.terms[b]));
    return s;
  }

  QString sentences(const auto& forms, const Topic& t, int n) {
    QStringList out;
    for (int i = 0; i < n; ++i) out << fill(forms[pick(static_cast<int>(forms.size()))], t);
    return out.join(QLatin1Char(' '));
  }

  QString answer(const Topic& t) {
    QString text = sentences(kAnswerForms, t, 3 + pick(3));
    if (t.code[0] != '\0' && pick(3) == 0) {
      text += QStringLiteral("\n\n```") + QString::fromUtf8(t.code_lang) + "\n" + QString::fromUtf8(t.code) +
              QStringLiteral("\n```\n\n");
    } else {
      text += QStringLiteral("\n\n");
    }
    text += sentences(kAnswerForms, t, 2 + pick(3));
    return text;
  }

 private:
  std::mt19937 rng_;
};

}  // namespace

penser::Result<int> fill_corpus(penser::app::Store& store, int n_messages, std::uint32_t seed) {
  Generator g(seed);
  int made = 0;
  int conversations = 0;
  QList<penser::app::ConversationRecord> batch;
  qint64 t = 1735689600000;  // 2025-01-01
  while (made < n_messages) {
    const Topic& topic = kTopics[static_cast<size_t>(g.pick(static_cast<int>(kTopics.size())))];
    penser::app::ConversationRecord r;
    r.conversation.title = QStringLiteral("About %1").arg(QString::fromUtf8(topic.subject));
    r.conversation.created_at = t;
    r.conversation.model_name = QStringLiteral("DeepSeek-R1-Distill-Qwen-7B");
    qint64 parent = 0;
    for (int turn = 0; turn < 5 && made < n_messages; ++turn) {
      penser::app::Message q;
      q.id = parent + 1;
      q.parent_id = parent;
      q.role = QStringLiteral("user");
      q.content = g.fill(kQuestionForms[static_cast<size_t>(g.pick(6))], topic);
      q.created_at = t += 30000;
      r.messages << q;
      ++made;
      if (made >= n_messages) break;
      penser::app::Message a;
      a.id = q.id + 1;
      a.parent_id = q.id;
      a.role = QStringLiteral("assistant");
      a.thinking = g.sentences(kThinkingForms, topic, 4 + g.pick(5));
      a.thinking_ms = 2000 + g.pick(20000);
      a.content = g.answer(topic);
      a.stats.decode_tps = 15 + g.pick(20);
      a.created_at = t += 20000;
      r.messages << a;
      parent = a.id;
      ++made;
    }
    r.conversation.updated_at = t;
    batch << r;
    ++conversations;
    if (batch.size() == 500) {
      PENSER_TRY(store.import_records(batch));
      batch.clear();
    }
  }
  if (!batch.isEmpty()) PENSER_TRY(store.import_records(batch));
  return conversations;
}

}  // namespace penser::test
