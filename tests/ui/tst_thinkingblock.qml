import QtQuick
import QtTest
import Penser

TestCase {
    id: testCase
    name: "ThinkingBlock"
    when: windowShown
    visible: true
    width: 600
    height: 400

    Component {
        id: blockComponent
        ThinkingBlock {
            width: 500
        }
    }

    SignalSpy {
        id: toggledSpy
        signalName: "toggled"
    }

    function make(properties) {
        const block = createTemporaryObject(blockComponent, testCase, properties)
        verify(block)
        toggledSpy.clear()
        toggledSpy.target = block
        return block
    }

    function header(block) {
        return findChild(block, "thinkingHeader")
    }

    function headerText(block) {
        return findChild(block, "thinkingHeaderText").text
    }

    function test_hiddenWithoutThinking() {
        const block = make({ thinkingState: "none", thinking: "" })
        verify(!block.visible)
        compare(block.implicitHeight, 0)
    }

    function test_openWhileThinkingWithLiveSeconds() {
        const block = make({ thinkingState: "thinking", thinking: "Let me see", seconds: 12 })
        verify(block.visible)
        verify(block.expanded)
        compare(headerText(block), "Thinking… 12 s")
        const trace = findChild(block, "thinkingTrace")
        verify(trace.visible)
        compare(findChild(block, "thinkingText").text, "Let me see")
        block.seconds = 13
        block.thinking += ", the user asks"
        compare(headerText(block), "Thinking… 13 s")
        compare(findChild(block, "thinkingText").text, "Let me see, the user asks")
        compare(block.Accessible.role === undefined, false)
    }

    function test_collapsesWhenTheAnswerStarts() {
        const block = make({ thinkingState: "thinking", thinking: "Hmm.", seconds: 4 })
        verify(block.expanded)
        block.thinkingState = "done"
        verify(!block.expanded)
        verify(!findChild(block, "thinkingTrace").visible)
        compare(headerText(block), "Thought for 4 seconds")
        block.seconds = 1
        compare(headerText(block), "Thought for 1 second")
    }

    function test_collapsesEvenIfOpenedByHandWhileThinking() {
        const block = make({ thinkingState: "thinking", thinking: "Hmm.", seconds: 2 })
        block.toggle()  // closed by the user while thinking
        verify(!block.expanded)
        block.toggle()
        verify(block.expanded)
        block.thinkingState = "done"
        verify(!block.expanded)
    }

    function test_clickTogglesStoredThinking() {
        // A reopened conversation: the message arrives already done.
        const block = make({ thinkingState: "done", thinking: "Stored trace", seconds: 30 })
        verify(!block.expanded)
        const h = header(block)
        mouseClick(h)
        verify(block.expanded)
        verify(findChild(block, "thinkingTrace").visible)
        compare(toggledSpy.count, 1)
        compare(toggledSpy.signalArguments[0][0], true)
        mouseClick(h)
        verify(!block.expanded)
        compare(toggledSpy.count, 2)
        compare(toggledSpy.signalArguments[1][0], false)
    }

    function test_keyboardToggles_data() {
        return [
            { tag: "space", key: Qt.Key_Space },
            { tag: "return", key: Qt.Key_Return },
            { tag: "enter", key: Qt.Key_Enter },
        ]
    }

    function test_keyboardToggles(data) {
        const block = make({ thinkingState: "done", thinking: "Trace", seconds: 3 })
        const h = header(block)
        h.forceActiveFocus()
        verify(h.activeFocus)
        keyClick(data.key)
        verify(block.expanded)
        keyClick(data.key)
        verify(!block.expanded)
        compare(toggledSpy.count, 2)
    }

    function test_stoppedAndInterruptedAreVisible_data() {
        return [
            { tag: "stopped", state: "stopped", text: "Thought stopped after 5 seconds" },
            { tag: "interrupted", state: "interrupted", text: "Thinking interrupted after 5 seconds" },
        ]
    }

    function test_stoppedAndInterruptedAreVisible(data) {
        const block = make({ thinkingState: data.state, thinking: "Partial", seconds: 5 })
        verify(block.visible)
        verify(!block.expanded)
        compare(headerText(block), data.text)
        compare(header(block).Accessible.name, data.text)
        mouseClick(header(block))
        verify(block.expanded)
        compare(findChild(block, "thinkingText").text, "Partial")
    }

    function test_newStateResetsTheUsersChoice() {
        // A reused delegate: the user had opened one message's thought; the next message starts closed.
        const block = make({ thinkingState: "done", thinking: "One", seconds: 3 })
        block.toggle()
        verify(block.expanded)
        block.thinkingState = "stopped"
        verify(!block.expanded)
        block.thinkingState = "thinking"
        verify(block.expanded)
    }

    function test_accessibleName() {
        const block = make({ thinkingState: "done", thinking: "x", seconds: 2 })
        compare(header(block).Accessible.name, "Thought for 2 seconds")
        compare(header(block).Accessible.role, Accessible.Button)
    }
}
