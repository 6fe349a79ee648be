// The strip under the conversation: speed of the last or current answer, time to first token, prefill
// progress while the prompt is read, and how much of the context the conversation fills.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Pane {
    id: root

    property real tokensPerSecond: 0
    property real timeToFirstTokenMs: 0  // 0: none yet
    property real prefillProgress: -1    // 0..1 while the prompt is read, -1 otherwise
    property int contextUsed: 0
    property int contextTotal: 0
    property bool generating: false

    readonly property real contextFraction: contextTotal > 0 ? Math.min(1, contextUsed / contextTotal) : 0
    readonly property string speedText: {
        const parts = []
        if (tokensPerSecond > 0)
            parts.push(qsTr("%1 tok/s").arg(tokensPerSecond.toFixed(1)))
        if (timeToFirstTokenMs > 0)
            parts.push(qsTr("%1 s to first token").arg((timeToFirstTokenMs / 1000).toFixed(2)))
        return parts.join(" · ")
    }

    // A slim track with a fill: Fusion's ProgressBar is a tall framed box that reads as an empty text field
    // at 0 % (the first thing a user sees under a new conversation).
    component Gauge: ProgressBar {
        id: gauge
        property color fillColor: Theme.accent
        from: 0
        to: 1
        Layout.alignment: Qt.AlignVCenter
        background: Rectangle {
            implicitWidth: 100
            implicitHeight: 6
            radius: 3
            color: Theme.border
        }
        contentItem: Item {
            implicitWidth: 100
            implicitHeight: 6
            Rectangle {
                objectName: "gaugeFill"
                width: parent.width * gauge.visualPosition
                height: parent.height
                radius: 3
                color: gauge.fillColor
            }
        }
    }

    padding: Theme.spacing / 2
    leftPadding: Theme.spacing
    rightPadding: Theme.spacing
    Accessible.role: Accessible.StatusBar
    Accessible.name: qsTr("Generation status")
    background: Rectangle {
        color: Theme.surface
    }

    RowLayout {
        anchors.fill: parent
        spacing: Theme.spacing

        Label {
            objectName: "statusSpeed"
            text: root.speedText
            color: Theme.mutedText
            font.pixelSize: Theme.smallFontSize
            Accessible.name: text
        }

        RowLayout {
            visible: root.prefillProgress >= 0
            spacing: Theme.spacing / 2
            Label {
                text: qsTr("Reading the prompt")
                color: Theme.mutedText
                font.pixelSize: Theme.smallFontSize
            }
            Gauge {
                objectName: "statusPrefill"
                value: Math.max(0, root.prefillProgress)
                Layout.preferredWidth: 80
                Accessible.name: qsTr("Prompt reading progress")
            }
        }

        Item {
            Layout.fillWidth: true
        }

        RowLayout {
            visible: root.contextTotal > 0
            spacing: Theme.spacing / 2
            Label {
                objectName: "statusContext"
                // Capped like the gauge: a reply cut by a full context counts its last, never evaluated token.
                text: qsTr("Context %1 / %2")
                      .arg(Number(Math.min(root.contextUsed, root.contextTotal)).toLocaleString(Qt.locale(), "f", 0))
                      .arg(Number(root.contextTotal).toLocaleString(Qt.locale(), "f", 0))
                color: root.contextFraction > 0.9 ? Theme.warning : Theme.mutedText
                font.pixelSize: Theme.smallFontSize
            }
            Gauge {
                objectName: "statusContextGauge"
                value: root.contextFraction
                fillColor: root.contextFraction > 0.9 ? Theme.warning : Theme.accent
                Layout.preferredWidth: 100
                Accessible.name: qsTr("Context used: %1 percent").arg(Math.round(root.contextFraction * 100))
            }
        }
    }
}
