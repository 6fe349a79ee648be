// "Deleted “title” · Undo": shown while a deleted conversation can still be brought back (Conversations
// keeps it for 8 seconds before deleting it from the database).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

Rectangle {
    id: bar

    readonly property string deletedTitle: Conversations.pendingRemovalTitle

    visible: deletedTitle.length > 0
    implicitHeight: visible ? layout.implicitHeight + Theme.spacing * 1.5 : 0
    radius: Theme.radius
    color: Theme.dark ? "#3a3d43" : "#2b2f36"

    Accessible.role: Accessible.AlertMessage
    Accessible.name: text.text

    RowLayout {
        id: layout
        anchors.fill: parent
        anchors.leftMargin: Theme.spacing * 1.5
        anchors.rightMargin: Theme.spacing / 2
        spacing: Theme.spacing

        Label {
            id: text
            Layout.fillWidth: true
            text: qsTr("Deleted “%1”").arg(bar.deletedTitle)
            elide: Text.ElideRight
            color: "#f2f3f5"
            font.pixelSize: Theme.smallFontSize
        }
        Button {
            text: qsTr("Undo")
            flat: true
            font.pixelSize: Theme.smallFontSize
            palette.buttonText: Theme.dark ? Theme.accent : "#9cc0ff"
            Accessible.name: qsTr("Undo delete")
            onClicked: Conversations.undoRemove()
        }
    }
}
