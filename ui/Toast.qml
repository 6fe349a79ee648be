// A short message at the bottom of the window (an export finished, a notice, an error) that goes away by
// itself; errors stay longer. Screen readers hear it as an alert.
import QtQuick
import QtQuick.Controls

Popup {
    id: toast

    property string message
    property bool isError: false

    function show(text, error) {
        message = text
        isError = error === true
        open()
        timer.restart()
    }

    x: (parent.width - width) / 2
    y: parent.height - height - Theme.spacing * 10
    width: Math.min(label.implicitWidth + leftPadding + rightPadding, parent.width - Theme.spacing * 4)
    padding: Theme.spacing * 1.5
    closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutsideParent
    focus: false

    background: Rectangle {
        radius: Theme.radius
        color: Theme.dark ? "#3a3d43" : "#2b2f36"
        border.width: toast.isError ? 2 : 0
        border.color: Theme.error
    }
    contentItem: Label {
        id: label
        text: toast.message
        wrapMode: Text.Wrap
        color: "#f2f3f5"
        font.pixelSize: Theme.fontSize
        Accessible.role: Accessible.AlertMessage
        Accessible.name: toast.message
    }

    Timer {
        id: timer
        interval: toast.isError ? 8000 : 4000
        onTriggered: toast.close()
    }
}
