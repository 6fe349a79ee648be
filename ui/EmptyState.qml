// The first page when no model is loaded: what to get (the R1 distilled models as Q4_K_M GGUF files and
// the memory each needs), where to put it (anywhere), and how to open it (button, Ctrl+O, drop).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

Rectangle {
    id: page

    signal browseRequested()

    color: Theme.background
    Accessible.role: Accessible.Pane
    Accessible.name: qsTr("Get started")

    // Rough memory needed to chat with a Q4_K_M file at a few thousand tokens of context: the file size
    // plus the KV cache and working buffers.
    readonly property var suggestions: [
        { name: "DeepSeek-R1-Distill-Qwen-1.5B", file: "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf",
          size: qsTr("1.1 GB"), ram: qsTr("about 2 GB of RAM"), note: qsTr("fast on any laptop") },
        { name: "DeepSeek-R1-Distill-Qwen-7B", file: "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf",
          size: qsTr("4.7 GB"), ram: qsTr("about 6 GB of RAM"), note: "" },
        { name: "DeepSeek-R1-Distill-Llama-8B", file: "DeepSeek-R1-Distill-Llama-8B-Q4_K_M.gguf",
          size: qsTr("4.9 GB"), ram: qsTr("about 7 GB of RAM"), note: "" },
        { name: "DeepSeek-R1-0528-Qwen3-8B", file: "DeepSeek-R1-0528-Qwen3-8B-Q4_K_M.gguf",
          size: qsTr("5.0 GB"), ram: qsTr("about 7 GB of RAM"), note: qsTr("the newest, strongest of these") },
        { name: "DeepSeek-R1-Distill-Qwen-14B", file: "DeepSeek-R1-Distill-Qwen-14B-Q4_K_M.gguf",
          size: qsTr("9.0 GB"), ram: qsTr("about 12 GB of RAM"), note: qsTr("best answers, slower") }
    ]

    ScrollView {
        id: scroll
        anchors.fill: parent
        contentWidth: availableWidth
        clip: true

        ColumnLayout {
            x: Math.max(Theme.spacing * 3, (scroll.availableWidth - width) / 2)
            width: Math.min(640, scroll.availableWidth - Theme.spacing * 6)
            spacing: Theme.spacing * 1.5

            Item { implicitHeight: Theme.spacing * 4 }

            Label {
                Layout.fillWidth: true
                text: qsTr("Chat with DeepSeek R1, offline")
                wrapMode: Text.Wrap
                color: Theme.text
                font.pixelSize: Theme.headlineFontSize
                font.weight: Font.DemiBold
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Label {
                Layout.fillWidth: true
                text: qsTr("Penser runs the model on this computer. Nothing you write leaves it. To begin, open a GGUF file of one of the R1 distilled models.")
                wrapMode: Text.Wrap
                color: Theme.mutedText
                font.pixelSize: Theme.fontSize
            }

            RowLayout {
                spacing: Theme.spacing
                Button {
                    text: qsTr("Open GGUF file…")
                    highlighted: true
                    enabled: Models.state !== Models.Loading
                    font.pixelSize: Theme.fontSize
                    Accessible.name: qsTr("Open a GGUF model file")
                    onClicked: page.browseRequested()
                }
                Label {
                    text: qsTr("or press Ctrl+O, or drop a .gguf file onto this window")
                    color: Theme.mutedText
                    font.pixelSize: Theme.smallFontSize
                }
            }

            ModelStatus { Layout.fillWidth: true }

            RecentModels { Layout.fillWidth: true }

            Label {
                Layout.topMargin: Theme.spacing
                Layout.fillWidth: true
                text: qsTr("Which file to get")
                color: Theme.text
                font.pixelSize: Theme.titleFontSize
                font.weight: Font.DemiBold
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Label {
                Layout.fillWidth: true
                text: qsTr("Download one of these as a Q4_K_M GGUF file from a model hub (search for its name with “GGUF”). A smaller model answers faster; a larger one reasons better.")
                wrapMode: Text.Wrap
                color: Theme.mutedText
                font.pixelSize: Theme.fontSize
            }

            Rectangle {
                Layout.fillWidth: true
                implicitHeight: table.implicitHeight + Theme.spacing * 2
                radius: Theme.radius
                color: Theme.surface
                border.color: Theme.border

                ColumnLayout {
                    id: table
                    anchors.fill: parent
                    anchors.margins: Theme.spacing
                    spacing: Theme.spacing

                    Repeater {
                        model: page.suggestions
                        delegate: RowLayout {
                            id: suggestion
                            required property var modelData
                            Layout.fillWidth: true
                            spacing: Theme.spacing * 2
                            Accessible.role: Accessible.StaticText
                            Accessible.name: qsTr("%1, %2 file, needs %3").arg(modelData.name).arg(modelData.size).arg(modelData.ram)

                            ColumnLayout {
                                Layout.fillWidth: true
                                spacing: 0
                                Label {
                                    Layout.fillWidth: true
                                    text: suggestion.modelData.name
                                    elide: Text.ElideRight
                                    color: Theme.text
                                    font.pixelSize: Theme.fontSize
                                    font.weight: Font.DemiBold
                                }
                                Label {
                                    Layout.fillWidth: true
                                    text: suggestion.modelData.file
                                    elide: Text.ElideMiddle
                                    color: Theme.mutedText
                                    font.family: Theme.monoFont
                                    font.pixelSize: Theme.smallFontSize
                                }
                            }
                            ColumnLayout {
                                spacing: 0
                                Label {
                                    Layout.alignment: Qt.AlignRight
                                    text: suggestion.modelData.ram
                                    color: Theme.text
                                    font.pixelSize: Theme.smallFontSize
                                }
                                Label {
                                    Layout.alignment: Qt.AlignRight
                                    text: suggestion.modelData.note.length > 0
                                          ? qsTr("%1 · %2").arg(suggestion.modelData.size).arg(suggestion.modelData.note)
                                          : suggestion.modelData.size
                                    color: Theme.mutedText
                                    font.pixelSize: Theme.smallFontSize
                                }
                            }
                        }
                    }
                }
            }

            Label {
                Layout.topMargin: Theme.spacing
                Layout.fillWidth: true
                text: qsTr("Where to put it")
                color: Theme.text
                font.pixelSize: Theme.titleFontSize
                font.weight: Font.DemiBold
                Accessible.role: Accessible.Heading
                Accessible.name: text
            }
            Label {
                Layout.fillWidth: true
                text: qsTr("Anywhere you like, for example a “Models” folder in your home folder. Penser reads the file where it is and remembers it in the recent models list; it makes no copy.")
                wrapMode: Text.Wrap
                color: Theme.mutedText
                font.pixelSize: Theme.fontSize
            }

            Item { implicitHeight: Theme.spacing * 4 }
        }
    }
}
