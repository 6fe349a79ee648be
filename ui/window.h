// The desktop window: loads the QML module `Penser` (ui/*.qml) into a QQmlApplicationEngine.
// Shared by the `penser` executable (app/main.cpp) and the end-to-end test, so both show the same window.
#pragma once

#include "inference/common/result.h"

class QQmlApplicationEngine;

namespace penser::gui {
class Services;
}

namespace penser::ui {

// Loads qrc:/qt/qml/Penser/Main.qml. `services` must outlive the engine: the QML singletons of Penser.Gui
// (Models, Chat, Conversations, ...) are the controllers it owns. Fails with the QML errors when the root
// window could not be created (a broken QML file, a missing Qt module at run time).
Status load_window(QQmlApplicationEngine& engine, gui::Services& services);

}  // namespace penser::ui
