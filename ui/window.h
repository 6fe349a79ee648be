// The desktop window: loads the QML module `Penser` (ui/*.qml) into a QQmlApplicationEngine.
// Shared by the `penser` executable (app/main.cpp) and the end-to-end test, so both show the same window.
#pragma once

#include "inference/common/result.h"

#include <QString>

class QQmlApplicationEngine;

namespace penser::gui {
class Services;
}

namespace penser::ui {

// Loads qrc:/qt/qml/Penser/Main.qml. `services` must outlive the engine: the QML singletons of Penser.Gui
// (Models, Chat, Conversations, ...) are the controllers it owns. Fails with the QML errors when the root
// window could not be created (a broken QML file, a missing Qt module at run time).
// `model_path`, when given (`penser model.gguf`, a desktop's "Open with"), starts loading that model once the
// window is up; a bad file shows its error in the window like one chosen in the file dialog.
Status load_window(QQmlApplicationEngine& engine, gui::Services& services, const QString& model_path = {});

}  // namespace penser::ui
