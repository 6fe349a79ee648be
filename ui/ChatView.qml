// The chat page: the conversation (a ListView over Chat.messages), the status strip and the composer.
// The only chat file that talks to the singletons; the components below it take plain properties.
// While an answer streams the view stays pinned to the bottom, unless the user scrolled up: then a
// "Jump to latest" button brings them back.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

FocusScope {
    id: root

    // Pinned to the newest message. Cleared when the user moves the view away from the end, set again
    // when they come back to it (or press Jump to latest, or send).
    property bool pinned: true
    readonly property alias listView: list
    readonly property alias composer: composer

    function scrollToMessage(row) {
        if (row < 0 || row >= list.count)
            return
        pinned = false
        list.positionViewAtIndex(row, ListView.Beginning)
        list.currentIndex = row
    }

    function jumpToLatest() {
        pinned = true
        list.positionViewAtEnd()
    }

    function focusComposer() {
        composer.focusInput()
    }

    Connections {
        target: Chat
        function onScrollToMessage(row) {
            root.scrollToMessage(row)
        }
        function onConversationIdChanged() {
            root.pinned = true
            Qt.callLater(root.jumpToLatest)
        }
    }

    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Conversation")

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true

            ListView {
                id: list
                objectName: "messageList"
                anchors.fill: parent
                clip: true
                model: Chat.messages
                reuseItems: true
                // Delegates above and below the viewport stay built, so scrolling back a little does
                // not re-create (and re-lay out) long answers.
                cacheBuffer: 1200
                boundsBehavior: Flickable.StopAtBounds
                keyNavigationEnabled: true
                activeFocusOnTab: true
                currentIndex: -1
                header: Item {
                    height: Theme.spacing
                }
                Accessible.role: Accessible.List
                Accessible.name: qsTr("Messages")

                ScrollBar.vertical: ScrollBar {
                    id: vbar
                    objectName: "messageScrollBar"
                }

                // The user moved the view (drag, flick, wheel, scroll bar, keys): pinned iff at the end.
                function userMoved() {
                    root.pinned = list.contentHeight <= list.height
                            || list.contentY + list.height >= list.contentHeight + list.originY - 4
                }
                onMovementEnded: userMoved()
                onContentYChanged: {
                    if (list.moving || vbar.pressed)
                        userMoved()
                }
                // New text made the content taller: follow it, once per frame at most.
                onContentHeightChanged: {
                    if (root.pinned)
                        Qt.callLater(list.followEnd)
                }
                onCountChanged: {
                    if (root.pinned)
                        Qt.callLater(list.followEnd)
                }
                function followEnd() {
                    if (root.pinned && !list.moving)
                        list.positionViewAtEnd()
                }

                delegate: MessageDelegate {
                    width: ListView.view.width
                    messageId: model.messageId
                    role: model.role
                    content: model.content
                    thinking: model.thinking
                    thinkingState: model.thinkingState
                    thinkingSeconds: model.thinkingSeconds
                    status: model.status
                    error: model.error
                    branchIndex: model.branchIndex
                    branchCount: model.branchCount
                    statsText: model.statsText
                    busy: Chat.generating

                    onCopyRequested: function (id, withThinking) {
                        Chat.copyMessage(id, withThinking)
                    }
                    onRegenerateRequested: function (id) {
                        root.pinned = true
                        Chat.regenerate(id)
                    }
                    onEditAndResendRequested: function (id, text) {
                        root.pinned = true
                        Chat.editAndResend(id, text)
                    }
                    onDeleteRequested: function (id) {
                        Chat.deleteMessage(id)
                    }
                    onSwitchBranchRequested: function (id, delta) {
                        Chat.switchBranch(id, delta)
                    }
                    onLinkActivated: function (link) {
                        Qt.openUrlExternally(link)
                    }
                }
            }

            Button {
                id: jumpButton
                objectName: "jumpToLatest"
                visible: !root.pinned && list.count > 0
                text: qsTr("Jump to latest ↓")
                highlighted: true
                anchors.horizontalCenter: parent.horizontalCenter
                anchors.bottom: parent.bottom
                anchors.bottomMargin: Theme.spacing
                focusPolicy: Qt.StrongFocus
                Accessible.name: qsTr("Jump to the latest message")
                onClicked: root.jumpToLatest()
            }
        }

        StatusBar {
            objectName: "statusBar"
            Layout.fillWidth: true
            tokensPerSecond: Chat.tokensPerSecond
            timeToFirstTokenMs: Chat.timeToFirstTokenMs
            prefillProgress: Chat.prefillProgress
            contextUsed: Chat.contextUsed
            contextTotal: Chat.contextTotal
            generating: Chat.generating
        }

        Composer {
            id: composer
            objectName: "composer"
            Layout.fillWidth: true
            focus: true
            generating: Chat.generating
            canSend: Chat.canSend
            disabledReason: Chat.disabledReason
            onSendRequested: function (text) {
                root.pinned = true
                Chat.send(text)
            }
            onStopRequested: Chat.stop()
        }
    }
}
