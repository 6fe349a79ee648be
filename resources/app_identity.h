// The app's identity towards the desktop: its window icon and the desktop-file id that Wayland compositors and
// docks match windows against. Both come from CMake (PENSER_APP_ID, resources/icons), the one place they are set.
#pragma once

class QIcon;
class QString;

namespace penser::resources {

// The application id, "io.github.penser.Penser": the .desktop file, the AppStream id and the macOS bundle id.
QString app_id();

// Every size of the icon compiled into the binary (16 to 256 px), for windows and dialogs.
QIcon app_icon();

// Sets QGuiApplication's window icon and desktop file name. Call after the QGuiApplication exists.
void apply_desktop_identity();

}  // namespace penser::resources
