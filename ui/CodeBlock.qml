// A fenced code block of an answer: monospace, the language on top, a Copy button, long lines scrolled
// sideways instead of wrapped (wrapping breaks code).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Rectangle {
    id: root

    property string code: ""
    property string language: ""
    // Set for one moment after a copy, so the button can say so.
    property bool justCopied: false

    signal copied(string text)

    function copyToClipboard() {
        // QML has no clipboard API; a hidden TextEdit's copy() goes through QClipboard.
        clipboardHelper.text = root.code
        clipboardHelper.selectAll()
        clipboardHelper.copy()
        clipboardHelper.text = ""
        justCopied = true
        copiedTimer.restart()
        copied(root.code)
    }

    implicitHeight: layout.implicitHeight
    implicitWidth: 200
    radius: 6
    color: Theme.codeBackground
    border.color: Theme.border
    border.width: 1
    Accessible.role: Accessible.Grouping
    Accessible.name: root.language.length > 0 ? qsTr("Code block, %1").arg(root.language) : qsTr("Code block")

    Timer {
        id: copiedTimer
        interval: 1500
        onTriggered: root.justCopied = false
    }

    TextEdit {
        id: clipboardHelper
        visible: false
        textFormat: TextEdit.PlainText
    }

    ColumnLayout {
        id: layout
        anchors.left: parent.left
        anchors.right: parent.right
        spacing: 0

        RowLayout {
            Layout.fillWidth: true
            Layout.leftMargin: Theme.spacing
            Layout.rightMargin: Theme.spacing / 2
            Label {
                objectName: "codeLanguage"
                text: root.language.length > 0 ? root.language : qsTr("code")
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
                Layout.fillWidth: true
            }
            ToolButton {
                id: copyButton
                objectName: "codeCopyButton"
                text: root.justCopied ? qsTr("Copied") : qsTr("Copy")
                font.pixelSize: Theme.smallFontSize
                focusPolicy: Qt.StrongFocus
                Accessible.name: qsTr("Copy code")
                onClicked: root.copyToClipboard()
            }
        }

        Rectangle {
            Layout.fillWidth: true
            implicitHeight: 1
            color: Theme.border
        }

        Flickable {
            id: scroller
            objectName: "codeScroller"
            Layout.fillWidth: true
            implicitHeight: codeText.implicitHeight + Theme.spacing * 1.5
                            + (contentWidth > width ? Theme.spacing : 0)
            contentWidth: codeText.implicitWidth + Theme.spacing * 2
            contentHeight: height
            clip: true
            flickableDirection: Flickable.HorizontalFlick
            boundsBehavior: Flickable.StopAtBounds
            // A vertical wheel over the block must scroll the conversation, not be eaten here.
            interactive: contentWidth > width

            ScrollBar.horizontal: ScrollBar {
                // Shown whenever lines are cut, so the reader knows there is more to the right.
                policy: scroller.contentWidth > scroller.width ? ScrollBar.AlwaysOn : ScrollBar.AlwaysOff
            }

            TextEdit {
                id: codeText
                objectName: "codeText"
                x: Theme.spacing
                y: Theme.spacing / 2
                text: root.code
                textFormat: TextEdit.PlainText
                wrapMode: TextEdit.NoWrap
                readOnly: true
                selectByMouse: true
                persistentSelection: true
                color: Theme.text
                selectionColor: Theme.selection
                selectedTextColor: Theme.text
                font.family: Theme.monoFont
                font.pixelSize: Theme.codeFontSize
                Accessible.role: Accessible.StaticText
                Accessible.name: root.code
            }
        }
    }
}
