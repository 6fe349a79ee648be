// The `penser` command line for scripts: export, import, list, --version, --help. main() stays thin: it
// asks wants_command_line() and hands over to run(); without a subcommand it starts the window instead.
#pragma once

#include <QStringList>
#include <QTextStream>

namespace penser::app::cli {

// True when the arguments (argv[1..]) ask for a command rather than the window. A model file given alone
// (`penser model.gguf`, as a desktop's "Open with" runs it) is not a command: the window opens it.
bool wants_command_line(const QStringList& args);

// The model file the arguments name for the window to open (a single argument that is not a command and
// names a .gguf file or a file:// URL, even one that does not exist: the window says so); empty otherwise.
QString model_argument(const QStringList& args);

// True when the command lays out text (PDF export) and so needs a QGuiApplication rather than a
// QCoreApplication.
bool needs_gui_library(const QStringList& args);

// Runs the command; returns the exit status (0 ok, 1 failed, 2 bad usage). Needs a QGuiApplication for PDF.
int run(const QStringList& args, QTextStream& out, QTextStream& err);

QString usage();

}  // namespace penser::app::cli
