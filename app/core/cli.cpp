#include "app/core/cli.h"

#include "app/core/export.h"
#include "app/core/import.h"
#include "app/core/store.h"
#include "inference/common/version.h"

#include <QDir>
#include <QFileInfo>
#include <QMap>
#include <QUrl>

namespace penser::app::cli {
namespace {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2 };

// --name value / --flag options after the subcommand, and the remaining positional arguments.
struct Parsed {
  QMap<QString, QString> values;
  QStringList flags;
  QStringList positional;
};

// `with_value`: the options that take a value; `flags`: those that do not.
bool parse(const QStringList& args, const QStringList& with_value, const QStringList& flags, Parsed& out,
           QTextStream& err) {
  for (int i = 0; i < args.size(); ++i) {
    QString a = args[i];
    if (!a.startsWith(QLatin1String("--"))) {
      out.positional << a;
      continue;
    }
    QString value;
    const int eq = static_cast<int>(a.indexOf(QLatin1Char('=')));
    const bool inline_value = eq > 0;
    if (inline_value) {
      value = a.mid(eq + 1);
      a = a.left(eq);
    }
    const QString name = a.mid(2);
    if (flags.contains(name) && !inline_value) {
      out.flags << name;
    } else if (with_value.contains(name)) {
      if (!inline_value) {
        if (i + 1 >= args.size()) {
          err << "penser: " << a << " needs a value\n";
          return false;
        }
        value = args[++i];
      }
      out.values.insert(name, value);
    } else {
      err << "penser: unknown option " << a << " (see penser --help)\n";
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<Store>> open_store(const Parsed& p) {
  const QString path = p.values.value(QStringLiteral("db"), Store::default_path());
  return Store::open(path);
}

// A conversation named by its number (as `penser list` shows) or its uuid.
Result<qint64> find_conversation(const Store& store, const QString& ref) {
  bool numeric = false;
  const qint64 id = ref.toLongLong(&numeric);
  if (numeric) {
    PENSER_TRY(store.conversation(id));
    return id;
  }
  PENSER_ASSIGN_OR_RETURN(qint64 by_uuid, store.conversation_id_by_uuid(ref));
  if (by_uuid == 0) return make_error("there is no conversation '{}' (see penser list)", ref.toStdString());
  return by_uuid;
}

int fail(QTextStream& err, const Error& e) {
  err << "penser: " << QString::fromStdString(e.message) << "\n";
  return kFailed;
}

int cmd_list(const QStringList& args, QTextStream& out, QTextStream& err) {
  Parsed p;
  if (!parse(args, {"db", "search", "limit"}, {}, p, err)) return kUsage;
  if (!p.positional.isEmpty()) {
    err << "penser list: unexpected argument " << p.positional.first() << "\n";
    return kUsage;
  }
  auto store = open_store(p);
  if (!store) return fail(err, store.error());
  if (p.values.contains(QStringLiteral("search"))) {
    const int limit = p.values.value(QStringLiteral("limit"), QStringLiteral("20")).toInt();
    auto hits = (*store)->search(p.values.value(QStringLiteral("search")), limit > 0 ? limit : 20);
    if (!hits) return fail(err, hits.error());
    for (const SearchHit& h : *hits) {
      // Matches are bracketed: [word].
      QString snippet = h.snippet;
      for (auto it = h.highlights.crbegin(); it != h.highlights.crend(); ++it) {
        snippet.insert(it->first + it->second, QLatin1Char(']'));
        snippet.insert(it->first, QLatin1Char('['));
      }
      out << h.conversation_id << "\t" << h.message_id << "\t" << h.role
          << (h.field == QLatin1String("thinking") ? " (thinking)" : "") << "\t" << h.conversation_title << "\n"
          << "\t" << snippet.simplified() << "\n";
    }
    if (hits->isEmpty()) err << "penser list: no message matches\n";
    return kOk;
  }
  auto all = (*store)->conversations();
  if (!all) return fail(err, all.error());
  for (const Conversation& c : *all) {
    out << c.id << "\t" << detail::format_time(c.updated_at) << "\t" << c.message_count << "\t"
        << (c.pinned ? "* " : "") << (c.title.isEmpty() ? QStringLiteral("(untitled)") : c.title) << "\n";
  }
  return kOk;
}

int cmd_export(const QStringList& args, QTextStream& out, QTextStream& err) {
  Parsed p;
  if (!parse(args, {"db", "conversation", "format", "out"}, {"all", "no-thinking"}, p, err)) return kUsage;
  const bool all = p.flags.contains(QStringLiteral("all"));
  const bool one = p.values.contains(QStringLiteral("conversation"));
  if (all == one) {
    err << "penser export: give either --conversation ID or --all\n";
    return kUsage;
  }
  const auto format = export_format_from_string(p.values.value(QStringLiteral("format")));
  if (!format) {
    err << "penser export: --format must be one of md, json, html, pdf, txt\n";
    return kUsage;
  }
  const QString path = p.values.value(QStringLiteral("out"));
  if (path.isEmpty() || !p.positional.isEmpty()) {
    err << "penser export: --out PATH is required\n";
    return kUsage;
  }
  auto store = open_store(p);
  if (!store) return fail(err, store.error());
  QList<qint64> ids;
  if (one) {
    auto id = find_conversation(**store, p.values.value(QStringLiteral("conversation")));
    if (!id) return fail(err, id.error());
    ids << *id;
  }
  ExportOptions options;
  options.include_thinking = !p.flags.contains(QStringLiteral("no-thinking"));
  if (auto st = export_to_file(**store, ids, *format, options, path); !st) return fail(err, st.error());
  out << "penser: wrote " << QDir::toNativeSeparators(path) << "\n";
  return kOk;
}

int cmd_import(const QStringList& args, QTextStream& out, QTextStream& err) {
  Parsed p;
  if (!parse(args, {"db"}, {}, p, err)) return kUsage;
  if (p.positional.size() != 1) {
    err << "penser import: give one FILE (a Penser .json export or ChatGPT's conversations.json)\n";
    return kUsage;
  }
  auto store = open_store(p);
  if (!store) return fail(err, store.error());
  auto report = import_file(**store, p.positional.first());
  if (!report) return fail(err, report.error());
  out << "penser: imported " << report->imported << " conversation(s)";
  if (report->skipped > 0) out << ", skipped " << report->skipped << " already present";
  out << "\n";
  return kOk;
}

}  // namespace

QString usage() {
  return QStringLiteral(
      "Usage: penser [COMMAND]\n"
      "Chat with DeepSeek R1 offline. Without a command, opens the window.\n"
      "\n"
      "Commands:\n"
      "  list   [--db PATH] [--search QUERY] [--limit N]\n"
      "         List conversations (id, updated, messages, title), or search every answer and thinking.\n"
      "  export [--db PATH] (--conversation ID | --all) --format md|json|html|pdf|txt --out PATH [--no-thinking]\n"
      "         Write conversations to a file. JSON holds everything and can be imported back.\n"
      "  import [--db PATH] FILE\n"
      "         Add the conversations of a Penser JSON export or of ChatGPT's conversations.json.\n"
      "\n"
      "Options:\n"
      "  --db PATH     the database to use (default: the app's, %1)\n"
      "  --help, -h    show this help\n"
      "  --version     show the version\n")
      .arg(QDir::toNativeSeparators(Store::default_path()));
}

QString model_argument(const QStringList& args) {
  if (args.size() != 1) return {};
  const QString& arg = args.first();
  if (arg.startsWith(QLatin1String("file:"))) return QUrl(arg).toLocalFile();
  // A command's name never ends in .gguf; a misspelt command stays an error rather than a model to load.
  if (arg.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive)) return arg;
  // Any other existing file that is not a command ("Open with" on a renamed model): the window checks it.
  static const QStringList kCommands = {QStringLiteral("list"), QStringLiteral("export"), QStringLiteral("import"),
                                        QStringLiteral("help")};
  if (!arg.startsWith(u'-') && !kCommands.contains(arg) && QFileInfo(arg).isFile()) return arg;
  return {};
}

bool wants_command_line(const QStringList& args) { return !args.isEmpty() && model_argument(args).isEmpty(); }

bool needs_gui_library(const QStringList& args) {
  if (args.isEmpty() || args.first() != QLatin1String("export")) return false;
  for (int i = 1; i < args.size(); ++i) {
    if (args[i] == QLatin1String("--format=pdf")) return true;
    if (args[i] == QLatin1String("--format") && i + 1 < args.size() && args[i + 1].toLower() == "pdf") return true;
  }
  return false;
}

int run(const QStringList& args, QTextStream& out, QTextStream& err) {
  if (args.isEmpty()) {
    out << usage();
    return kOk;
  }
  const QString command = args.first();
  const QStringList rest = args.mid(1);
  if (command == QLatin1String("--version") || command == QLatin1String("-v")) {
    out << "penser " << penser::version() << "\n";
    return kOk;
  }
  if (command == QLatin1String("--help") || command == QLatin1String("-h") || command == QLatin1String("help")) {
    out << usage();
    return kOk;
  }
  if (command == QLatin1String("list")) return cmd_list(rest, out, err);
  if (command == QLatin1String("export")) return cmd_export(rest, out, err);
  if (command == QLatin1String("import")) return cmd_import(rest, out, err);
  err << "penser: unknown command '" << command << "'\n\n" << usage();
  return kUsage;
}

}  // namespace penser::app::cli
