import QtQuick
import QtTest
import Penser

TestCase {
    id: testCase
    name: "Composer"
    when: windowShown
    visible: true
    width: 700
    height: 500

    Component {
        id: composerComponent
        Composer {
            width: 600
        }
    }

    SignalSpy {
        id: sendSpy
        signalName: "sendRequested"
    }
    SignalSpy {
        id: stopSpy
        signalName: "stopRequested"
    }

    function make(properties) {
        const c = createTemporaryObject(composerComponent, testCase, properties || {})
        verify(c)
        sendSpy.clear()
        stopSpy.clear()
        sendSpy.target = c
        stopSpy.target = c
        const input = findChild(c, "composerInput")
        if (input.enabled) {
            input.forceActiveFocus()
            verify(input.activeFocus)
        }
        return c
    }

    function input(c) {
        return findChild(c, "composerInput")
    }

    function test_enterSends() {
        const c = make()
        keySequence("h,i")
        compare(c.text, "hi")
        keyClick(Qt.Key_Return)
        compare(sendSpy.count, 1)
        compare(sendSpy.signalArguments[0][0], "hi")
        compare(c.text, "")
    }

    function test_keypadEnterSends() {
        const c = make()
        keySequence("o,k")
        keyClick(Qt.Key_Enter)
        compare(sendSpy.count, 1)
        compare(sendSpy.signalArguments[0][0], "ok")
    }

    function test_shiftEnterIsANewLine() {
        const c = make()
        keyClick(Qt.Key_A)
        keyClick(Qt.Key_Return, Qt.ShiftModifier)
        keyClick(Qt.Key_B)
        compare(sendSpy.count, 0)
        compare(c.text, "a\nb")
        keyClick(Qt.Key_Return)
        compare(sendSpy.count, 1)
        compare(sendSpy.signalArguments[0][0], "a\nb")
    }

    function test_blankIsNotSent() {
        const c = make()
        keyClick(Qt.Key_Return)
        keyClick(Qt.Key_Space)
        keyClick(Qt.Key_Return)
        compare(sendSpy.count, 0)
        verify(!findChild(c, "sendButton").enabled)
    }

    function test_sendButton() {
        const c = make()
        c.text = "  question  "
        const button = findChild(c, "sendButton")
        verify(button.visible)
        verify(button.enabled)
        mouseClick(button)
        compare(sendSpy.count, 1)
        compare(sendSpy.signalArguments[0][0], "question")
    }

    function test_stopWhileGenerating() {
        const c = make({ generating: true })
        verify(!findChild(c, "sendButton").visible)
        const stop = findChild(c, "stopButton")
        verify(stop.visible)
        // Typing the next question is allowed, sending it is not until the answer ends.
        input(c).forceActiveFocus()
        keyClick(Qt.Key_X)
        keyClick(Qt.Key_Return)
        compare(sendSpy.count, 0)
        compare(c.text, "x")
        keyClick(Qt.Key_Escape)
        compare(stopSpy.count, 1)
        mouseClick(stop)
        compare(stopSpy.count, 2)
        c.generating = false
        verify(findChild(c, "sendButton").visible)
        verify(!stop.visible)
        input(c).forceActiveFocus()
        keyClick(Qt.Key_Escape)
        compare(stopSpy.count, 2)
        keyClick(Qt.Key_Return)
        compare(sendSpy.count, 1)
    }

    function test_disabledWithReason() {
        const c = make({ canSend: false, disabledReason: "Open a model to start chatting." })
        const reason = findChild(c, "composerReason")
        verify(reason.visible)
        compare(reason.text, "Open a model to start chatting.")
        verify(!input(c).enabled)
        compare(input(c).Accessible.description, "Open a model to start chatting.")
        c.text = "question"
        verify(!findChild(c, "sendButton").enabled)
        verify(!c.send())
        compare(sendSpy.count, 0)
        c.canSend = true
        c.disabledReason = ""
        verify(!reason.visible)
        verify(input(c).enabled)
        verify(findChild(c, "sendButton").enabled)
    }

    function test_growsThenScrolls() {
        const c = make({ maxInputHeight: 120 })
        const box = input(c).parent.parent  // the ScrollView around the input
        const oneLine = box.height
        c.text = "1\n2\n3"
        // Layouts settle at the next polish.
        tryVerify(function () { return box.height > oneLine })
        const threeLines = box.height
        c.text = Array(40).fill("line").join("\n")
        tryVerify(function () { return box.height > threeLines })
        // Capped at maxInputHeight; the rest scrolls.
        tryCompare(box, "height", 120)
        verify(input(c).implicitHeight > 120)
        verify(box.contentHeight > box.height)
    }
}
