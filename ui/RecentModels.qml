// Models opened before, newest first: one click opens one again; a file that has moved says so.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Penser.Gui

ColumnLayout {
    id: recent

    readonly property int count: repeater.count

    spacing: 2
    visible: count > 0

    Label {
        text: qsTr("Recent models")
        color: Theme.mutedText
        font.pixelSize: Theme.smallFontSize
        font.weight: Font.DemiBold
        Accessible.role: Accessible.Heading
        Accessible.name: text
    }

    Repeater {
        id: repeater
        model: Models.recentModels

        delegate: ItemDelegate {
            id: item
            required property var modelData
            readonly property bool exists: modelData.exists !== false
            readonly property bool isLoaded: modelData.path === Models.modelPath && Models.state === Models.Ready

            readonly property string sizeText: typeof modelData.size === "number"
                                               ? qsTr("%1 GB").arg((modelData.size / 1e9).toFixed(1))
                                               : (modelData.size || "")

            Layout.fillWidth: true
            padding: Theme.spacing / 2
            leftPadding: Theme.spacing
            onClicked: if (exists && !isLoaded) Models.open(modelData.path)
            Keys.onDeletePressed: Models.removeRecent(modelData.path)
            Accessible.role: Accessible.Button
            Accessible.name: exists ? qsTr("Open %1").arg(modelData.name)
                                    : qsTr("%1 (file not found)").arg(modelData.name)

            background: Rectangle {
                radius: Theme.radius
                color: (item.hovered || item.visualFocus) ? Theme.hover : "transparent"
                border.width: item.visualFocus ? 2 : 0
                border.color: Theme.accent
            }
            contentItem: RowLayout {
                spacing: Theme.spacing
                ColumnLayout {
                    Layout.fillWidth: true
                    spacing: 0
                    Label {
                        Layout.fillWidth: true
                        text: item.isLoaded ? qsTr("%1 · loaded").arg(item.modelData.name) : item.modelData.name
                        elide: Text.ElideRight
                        color: item.exists ? Theme.text : Theme.mutedText
                        font.pixelSize: Theme.fontSize
                    }
                    Label {
                        Layout.fillWidth: true
                        text: item.exists ? item.modelData.path + (item.sizeText ? " · " + item.sizeText : "")
                                          : qsTr("Not found: %1").arg(item.modelData.path)
                        elide: Text.ElideMiddle
                        color: item.exists ? Theme.mutedText : Theme.error
                        font.pixelSize: Theme.smallFontSize
                    }
                }
                IconButton {
                    glyph: "✕"
                    tip: qsTr("Remove from the list")
                    onClicked: Models.removeRecent(item.modelData.path)
                }
            }
        }
    }
}
