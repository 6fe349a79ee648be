// penser.exe is a GUI-subsystem program (no console window behind the chat window), but `penser export ...`
// and the other commands print. When started from a console, attach to it before main() so stdout/stderr
// reach it; started from the Start menu there is no parent console and nothing changes. Windows only.
// The prompt may come back before the output ends (cmd does not wait for GUI programs): scripts should use
// `start /wait penser ...` or penser-cli, which is a console program.
#include <windows.h>

#include <cstdio>

namespace {

bool attach_parent_console() {
  if (!AttachConsole(ATTACH_PARENT_PROCESS)) return false;
  FILE* ignored = nullptr;
  freopen_s(&ignored, "CONOUT$", "w", stdout);
  freopen_s(&ignored, "CONOUT$", "w", stderr);
  return true;
}

// A namespace-scope initialiser runs before main() in the executable this file is linked into.
[[maybe_unused]] const bool attached = attach_parent_console();

}  // namespace
