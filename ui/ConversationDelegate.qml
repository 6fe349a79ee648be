// One conversation in the sidebar: its title (renamed in place), a pin mark, and pin / rename / delete
// actions on hover, on the context menu and on the keyboard (F2 rename, Delete delete, Enter open).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ItemDelegate {
    id: row

    required property int index
    required property var conversationId
    required property string title
    required property bool pinned
    required property bool current

    property bool editing: false

    signal openRequested()
    signal renameRequested(string title)
    signal pinRequested(bool pinned)
    signal deleteRequested()

    function startRename() {
        editing = true
        editor.text = title
        editor.selectAll()
        editor.forceActiveFocus()
    }

    function finishRename(accept) {
        if (!editing)
            return
        editing = false
        const text = editor.text.trim()
        if (accept && text.length > 0 && text !== title)
            renameRequested(text)
        row.forceActiveFocus()
    }

    width: ListView.view ? ListView.view.width : implicitWidth
    height: 36
    highlighted: current
    padding: 0
    leftPadding: Theme.spacing * 1.5
    rightPadding: Theme.spacing / 2
    // The row keeps the keyboard focus after a click, so F2 and Delete act on it next.
    onClicked: {
        if (ListView.view)
            ListView.view.currentIndex = index
        forceActiveFocus()
        openRequested()
    }

    Keys.onReturnPressed: openRequested()
    Keys.onEnterPressed: openRequested()
    Keys.onDeletePressed: deleteRequested()
    Keys.onPressed: (event) => {
        if (event.key === Qt.Key_F2) {
            startRename()
            event.accepted = true
        }
    }

    Accessible.role: Accessible.ListItem
    Accessible.name: pinned ? qsTr("%1, pinned").arg(title) : title
    Accessible.selected: current

    background: Rectangle {
        radius: Theme.radius
        color: row.current ? Theme.selection : (row.hovered || row.visualFocus) ? Theme.hover : "transparent"
        border.width: row.visualFocus ? 2 : 0
        border.color: Theme.accent
    }

    contentItem: RowLayout {
        spacing: Theme.spacing / 2

        Label {
            visible: row.pinned && !row.editing
            text: "★"
            color: Theme.accent
            font.pixelSize: Theme.smallFontSize
            Accessible.ignored: true
        }
        Label {
            Layout.fillWidth: true
            visible: !row.editing
            text: row.title.length > 0 ? row.title : qsTr("New chat")
            elide: Text.ElideRight
            color: Theme.text
            font.pixelSize: Theme.fontSize
        }
        TextField {
            id: editor
            Layout.fillWidth: true
            visible: row.editing
            font.pixelSize: Theme.fontSize
            selectByMouse: true
            Accessible.name: qsTr("Conversation title")
            Keys.onReturnPressed: row.finishRename(true)
            Keys.onEnterPressed: row.finishRename(true)
            Keys.onEscapePressed: row.finishRename(false)
            onActiveFocusChanged: if (!activeFocus) row.finishRename(true)
        }
        IconButton {
            visible: !row.editing && (row.hovered || row.current)
            glyph: row.pinned ? "★" : "☆"
            tip: row.pinned ? qsTr("Unpin") : qsTr("Pin")
            onClicked: row.pinRequested(!row.pinned)
        }
        IconButton {
            visible: !row.editing && (row.hovered || row.current)
            glyph: "✎"
            tip: qsTr("Rename")
            onClicked: row.startRename()
        }
        IconButton {
            visible: !row.editing && (row.hovered || row.current)
            glyph: "✕"
            tip: qsTr("Delete")
            onClicked: row.deleteRequested()
        }
    }

    TapHandler {
        acceptedButtons: Qt.RightButton
        onTapped: menu.popup()
    }
    Keys.onMenuPressed: menu.popup(row, 0, row.height)

    Menu {
        id: menu
        MenuItem { text: qsTr("Open"); onTriggered: row.openRequested() }
        MenuItem { text: qsTr("Rename"); onTriggered: row.startRename() }
        MenuItem { text: row.pinned ? qsTr("Unpin") : qsTr("Pin"); onTriggered: row.pinRequested(!row.pinned) }
        MenuSeparator {}
        MenuItem { text: qsTr("Delete"); onTriggered: row.deleteRequested() }
    }
}
