// The left column: New chat, the full-text search field, and the conversations grouped by day (Pinned,
// Today, Yesterday, Previous 7 days, Older). While a query is typed the list shows search hits instead;
// a hit opens its conversation at the matching message.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

Rectangle {
    id: sidebar

    readonly property bool searching: searchField.text.trim().length > 0

    function focusSearch() {
        searchField.forceActiveFocus()
        searchField.selectAll()
    }

    color: Theme.sidebar
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Conversations")

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.spacing
        spacing: Theme.spacing

        Button {
            id: newChat
            objectName: "newChatButton"
            Layout.fillWidth: true
            text: qsTr("+  New chat")
            font.pixelSize: Theme.fontSize
            Accessible.name: qsTr("New chat")
            ToolTip.visible: hovered
            ToolTip.delay: 600
            ToolTip.text: qsTr("New chat (Ctrl+N)")
            onClicked: Chat.newChat()
        }

        TextField {
            id: searchField
            objectName: "searchField"
            Layout.fillWidth: true
            placeholderText: qsTr("Search conversations (Ctrl+F)")
            font.pixelSize: Theme.fontSize
            selectByMouse: true
            Accessible.role: Accessible.EditableText
            Accessible.name: qsTr("Search conversations")
            onTextChanged: Search.query = text
            Keys.onEscapePressed: text = ""
            Keys.onDownPressed: hits.forceActiveFocus()
        }

        // Conversations, grouped by day.
        ListView {
            id: conversations
            objectName: "conversationList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: !sidebar.searching
            clip: true
            spacing: 1
            model: Conversations
            keyNavigationEnabled: true
            activeFocusOnTab: true
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            Accessible.role: Accessible.List
            Accessible.name: qsTr("Conversations")

            section.property: "section"
            section.criteria: ViewSection.FullString
            section.delegate: Label {
                required property string section
                width: ListView.view.width
                topPadding: Theme.spacing * 1.5
                bottomPadding: Theme.spacing / 2
                leftPadding: Theme.spacing * 1.5
                text: section
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
                font.weight: Font.DemiBold
                Accessible.role: Accessible.Heading
                Accessible.name: section
            }

            delegate: ConversationDelegate {
                onOpenRequested: Chat.open(conversationId)
                onRenameRequested: (newTitle) => Conversations.rename(conversationId, newTitle)
                onPinRequested: (pin) => Conversations.setPinned(conversationId, pin)
                onDeleteRequested: Conversations.remove(conversationId)
            }

            Label {
                anchors.centerIn: parent
                width: parent.width - Theme.spacing * 4
                visible: conversations.count === 0
                text: qsTr("Your conversations will appear here.")
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
            }
        }

        // Search hits.
        ListView {
            id: hits
            objectName: "searchHits"
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: sidebar.searching
            clip: true
            spacing: 1
            model: Search
            keyNavigationEnabled: true
            activeFocusOnTab: true
            boundsBehavior: Flickable.StopAtBounds
            ScrollBar.vertical: ScrollBar {}
            Accessible.role: Accessible.List
            Accessible.name: qsTr("Search results")

            delegate: SearchHitDelegate {
                required property var conversationId
                required property var messageId
                onClicked: Chat.openAt(conversationId, messageId)
            }

            Label {
                anchors.centerIn: parent
                width: parent.width - Theme.spacing * 4
                visible: hits.count === 0
                text: Search.busy ? qsTr("Searching…") : qsTr("No message matches “%1”.").arg(searchField.text.trim())
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
            }
        }

        UndoBar {
            Layout.fillWidth: true
        }
    }
}
