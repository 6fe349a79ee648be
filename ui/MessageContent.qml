// An answer's Markdown: prose blocks through Text's Markdown renderer (headings, lists, tables, links),
// fenced code in CodeBlock. The split is MarkdownBlocks (Penser.Gui), an item model that changes in place:
// while an answer streams, blocks that stayed equal keep their items, the growing one gets one update and a
// new block is inserted, so only the last block lays out again.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

ColumnLayout {
    id: root

    property string text: ""    // the answer, Markdown
    readonly property alias blockCount: split.count

    signal linkActivated(string link)

    spacing: Theme.spacing

    MarkdownBlocks {
        id: split
        text: root.text
    }

    Repeater {
        model: split

        delegate: Loader {
            id: blockLoader
            required property string kind
            required property string text
            required property string language

            Layout.fillWidth: true
            sourceComponent: kind === "code" ? codeComponent : proseComponent

            Component {
                id: proseComponent
                TextEdit {
                    objectName: "prose"
                    text: blockLoader.text
                    textFormat: TextEdit.MarkdownText
                    wrapMode: TextEdit.Wrap
                    readOnly: true
                    selectByMouse: true
                    persistentSelection: false
                    activeFocusOnTab: false
                    color: Theme.text
                    selectionColor: Theme.selection
                    selectedTextColor: Theme.text
                    font.pixelSize: Theme.fontSize
                    Accessible.role: Accessible.StaticText
                    Accessible.name: blockLoader.text
                    onLinkActivated: function (link) {
                        root.linkActivated(link)
                    }

                    HoverHandler {
                        cursorShape: parent.hoveredLink.length > 0 ? Qt.PointingHandCursor : Qt.IBeamCursor
                    }
                }
            }
            Component {
                id: codeComponent
                CodeBlock {
                    code: blockLoader.text
                    language: blockLoader.language
                }
            }
        }
    }
}
