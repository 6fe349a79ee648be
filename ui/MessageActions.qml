// The actions under a message: copy (the answer alone, or with its thinking), regenerate (assistant),
// edit and resend (user), delete. Emits signals; the page decides what they do.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

RowLayout {
    id: root

    property string role: "assistant"   // "user" | "assistant"
    property bool hasThinking: false
    // While the model writes, actions that start or remove a turn would fight with it.
    property bool busy: false

    signal copyRequested(bool withThinking)
    signal regenerateRequested()
    signal editRequested()
    signal deleteRequested()

    spacing: 0

    component ActionButton: ToolButton {
        font.pixelSize: Theme.smallFontSize
        focusPolicy: Qt.StrongFocus
        ToolTip.text: Accessible.name
        ToolTip.visible: hovered && Accessible.name !== text
        ToolTip.delay: 600
    }

    ActionButton {
        objectName: "actionCopy"
        text: qsTr("Copy")
        Accessible.name: root.role === "assistant" ? qsTr("Copy the answer") : qsTr("Copy the message")
        onClicked: root.copyRequested(false)
    }
    ActionButton {
        objectName: "actionCopyWithThinking"
        visible: root.role === "assistant" && root.hasThinking
        text: qsTr("Copy with thinking")
        Accessible.name: qsTr("Copy the answer with its thinking")
        onClicked: root.copyRequested(true)
    }
    ActionButton {
        objectName: "actionRegenerate"
        visible: root.role === "assistant"
        enabled: !root.busy
        text: qsTr("Regenerate")
        Accessible.name: qsTr("Regenerate the answer")
        onClicked: root.regenerateRequested()
    }
    ActionButton {
        objectName: "actionEdit"
        visible: root.role === "user"
        enabled: !root.busy
        text: qsTr("Edit")
        Accessible.name: qsTr("Edit and resend the question")
        onClicked: root.editRequested()
    }
    ActionButton {
        objectName: "actionDelete"
        enabled: !root.busy
        text: qsTr("Delete")
        Accessible.name: qsTr("Delete the message")
        onClicked: root.deleteRequested()
    }
}
