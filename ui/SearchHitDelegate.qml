// One full-text search hit: the conversation's title and the matching passage (matches in bold), marked
// when it was found in the model's thinking. Opens the conversation at that message.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ItemDelegate {
    id: hit

    required property string title
    required property string snippet
    required property string field
    required property string role

    width: ListView.view ? ListView.view.width : implicitWidth
    leftPadding: Theme.spacing * 1.5
    rightPadding: Theme.spacing
    topPadding: Theme.spacing * 0.75
    bottomPadding: Theme.spacing * 0.75

    Keys.onReturnPressed: clicked()
    Keys.onEnterPressed: clicked()
    Accessible.role: Accessible.ListItem
    Accessible.name: qsTr("%1: %2").arg(title).arg(snippetText.text.replace(/<[^>]*>/g, ""))

    background: Rectangle {
        radius: Theme.radius
        color: (hit.hovered || hit.visualFocus) ? Theme.hover : "transparent"
        border.width: hit.visualFocus ? 2 : 0
        border.color: Theme.accent
    }

    contentItem: ColumnLayout {
        spacing: 2
        RowLayout {
            Layout.fillWidth: true
            Label {
                Layout.fillWidth: true
                text: hit.title.length > 0 ? hit.title : qsTr("New chat")
                elide: Text.ElideRight
                color: Theme.text
                font.pixelSize: Theme.fontSize
                font.weight: Font.DemiBold
            }
            Label {
                visible: hit.field === "thinking"
                text: qsTr("in thinking")
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
                font.italic: true
            }
        }
        Label {
            id: snippetText
            Layout.fillWidth: true
            text: hit.snippet
            textFormat: Text.StyledText
            wrapMode: Text.Wrap
            maximumLineCount: 3
            elide: Text.ElideRight
            color: Theme.mutedText
            font.pixelSize: Theme.smallFontSize
        }
    }
}
