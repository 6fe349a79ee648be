// The panel behind every dialog: a surface a step above the page, with a border, so a dialog stands out
// from the window in both themes.
import QtQuick

Rectangle {
    color: Theme.surface
    radius: Theme.radius * 1.5
    border.color: Theme.border
}
