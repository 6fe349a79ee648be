// An answer's Markdown: prose blocks through Text's Markdown renderer (headings, lists, tables, links),
// fenced code in CodeBlock. `blocks` is Markdown.blocks(content) ({kind, text, language} each), given by
// the page. The Repeater runs over the block count, not the list itself: while an answer streams the list
// is rebuilt every frame, but only the last block's text changes, so only that block lays out again.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ColumnLayout {
    id: root

    property var blocks: []

    signal linkActivated(string link)

    spacing: Theme.spacing

    Repeater {
        model: root.blocks ? root.blocks.length : 0

        delegate: Loader {
            id: blockLoader
            required property int index
            readonly property var block: root.blocks[index] || { "kind": "text", "text": "", "language": "" }
            // Strings, so that an unchanged block (equal string) does not re-lay out.
            readonly property string blockText: block.text || ""
            readonly property string blockLanguage: block.language || ""

            Layout.fillWidth: true
            sourceComponent: block.kind === "code" ? codeComponent : proseComponent

            Component {
                id: proseComponent
                TextEdit {
                    objectName: "prose"
                    text: blockLoader.blockText
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
                    Accessible.name: blockLoader.blockText
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
                    code: blockLoader.blockText
                    language: blockLoader.blockLanguage
                }
            }
        }
    }
}
