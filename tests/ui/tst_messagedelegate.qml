import QtQuick
import QtTest
import Penser

TestCase {
    id: testCase
    name: "MessageDelegate"
    when: windowShown
    visible: true
    width: 800
    height: 700

    Component {
        id: delegateComponent
        MessageDelegate {
            width: 780
        }
    }

    SignalSpy { id: copySpy; signalName: "copyRequested" }
    SignalSpy { id: regenerateSpy; signalName: "regenerateRequested" }
    SignalSpy { id: editSpy; signalName: "editAndResendRequested" }
    SignalSpy { id: deleteSpy; signalName: "deleteRequested" }
    SignalSpy { id: branchSpy; signalName: "switchBranchRequested" }

    function make(properties) {
        const d = createTemporaryObject(delegateComponent, testCase, properties)
        verify(d)
        for (const spy of [copySpy, regenerateSpy, editSpy, deleteSpy, branchSpy]) {
            spy.clear()
            spy.target = d
        }
        return d
    }

    readonly property string answer: "# Title\n\nSome **bold** prose and a [link](https://example.org).\n\n"
                                     + "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                                     + "```python\nprint('hi')\n```\n\n- one\n- two"

    function assistant(extra) {
        const p = {
            messageId: 7, role: "assistant", content: answer,
            thinking: "The user wants a title.", thinkingState: "done", thinkingSeconds: 3,
            status: "complete", branchIndex: 1, branchCount: 1,
            statsText: "23.1 tok/s · 412 tokens · 0.8 s to first token"
        }
        for (const k in extra)
            p[k] = extra[k]
        return make(p)
    }

    function test_answerRendersProseAndCode() {
        const d = assistant({})
        tryVerify(function () { return findChild(d, "codeText") !== null })
        compare(findChild(d, "codeText").text, "print('hi')")
        compare(findChild(d, "codeLanguage").text, "python")
        const prose = findChild(d, "prose")
        verify(prose)
        compare(prose.textFormat, TextEdit.MarkdownText)
        // Markdown was rendered: the heading and table markup are gone from the plain text.
        verify(prose.getText(0, prose.length).indexOf("# Title") < 0)
        verify(prose.getText(0, prose.length).indexOf("Title") >= 0)
        verify(prose.getText(0, prose.length).indexOf("|---|") < 0)
        verify(findChild(d, "thinkingBlock").visible)
        verify(!findChild(d, "userBubble").visible)
        compare(findChild(d, "statsText").text, "23.1 tok/s · 412 tokens · 0.8 s to first token")
        verify(!findChild(d, "messageState").visible)
    }

    function test_streamingKeepsBlocksThatDidNotChange() {
        const d = assistant({ status: "streaming", thinkingState: "done" })
        tryVerify(function () { return findChild(d, "codeText") !== null })
        const code = findChild(d, "codeText")
        const prose = findChildrenByName(d, "prose")
        verify(prose.length >= 2)
        const last = prose.length - 1
        // The last block grows: the items before it stay, the last one shows the new text.
        d.content = answer + "\n- three"
        compare(findChild(d, "codeText"), code)
        compare(findChildrenByName(d, "prose")[0], prose[0])
        compare(findChildrenByName(d, "prose").length, prose.length)
        verify(findChildrenByName(d, "prose")[last].getText(0, 1000).indexOf("three") >= 0)
        // A new block (an unclosed fence while streaming) is added without rebuilding the others.
        d.content = answer + "\n- three\n\n```\nx = 1"
        tryVerify(function () { return findChildrenByName(d, "codeText").length === 2 })
        compare(findChildrenByName(d, "codeText")[0], code)
        for (let i = 0; i < prose.length; ++i)
            compare(findChildrenByName(d, "prose")[i], prose[i])
        compare(findChildrenByName(d, "codeText")[1].text.trim(), "x = 1")
        // Actions wait for the end of the answer.
        verify(!findChild(d, "actionCopy").visible)
    }

    function findChildrenByName(item, name) {
        const found = []
        const walk = function (node) {
            for (let i = 0; i < node.children.length; ++i) {
                const c = node.children[i]
                if (c.objectName === name)
                    found.push(c)
                walk(c)
            }
        }
        walk(item)
        return found
    }

    function test_states_data() {
        return [
            { tag: "stopped", status: "stopped", error: "", text: "Stopped" },
            { tag: "interrupted", status: "interrupted", error: "",
              text: "Interrupted: the answer was cut off before it finished." },
            { tag: "error", status: "error", error: "The context is full.", text: "The context is full." },
        ]
    }

    function test_states(data) {
        const d = assistant({ status: data.status, error: data.error })
        const label = findChild(d, "messageState")
        verify(label.visible)
        compare(label.text, data.text)
    }

    function test_waitingBeforeTheFirstToken() {
        const d = assistant({ status: "streaming", content: "", thinking: "", thinkingState: "none" })
        verify(findChild(d, "waitingIndicator").visible)
        d.thinkingState = "thinking"
        verify(!findChild(d, "waitingIndicator").visible)
    }

    function test_assistantActions() {
        const d = assistant({ branchIndex: 2, branchCount: 3 })
        mouseClick(findChild(d, "actionCopy"))
        mouseClick(findChild(d, "actionCopyWithThinking"))
        compare(copySpy.count, 2)
        compare(copySpy.signalArguments[0][0], 7)
        compare(copySpy.signalArguments[0][1], false)
        compare(copySpy.signalArguments[1][1], true)
        mouseClick(findChild(d, "actionRegenerate"))
        compare(regenerateSpy.count, 1)
        compare(regenerateSpy.signalArguments[0][0], 7)
        mouseClick(findChild(d, "actionDelete"))
        compare(deleteSpy.count, 1)
        verify(!findChild(d, "actionEdit").visible)
        mouseClick(findChild(d, "branchPrevious"))
        compare(branchSpy.count, 1)
        compare(branchSpy.signalArguments[0][0], 7)
        compare(branchSpy.signalArguments[0][1], -1)
    }

    function test_busyDisablesTurnActions() {
        const d = assistant({ busy: true })
        verify(!findChild(d, "actionRegenerate").enabled)
        verify(!findChild(d, "actionDelete").enabled)
        verify(findChild(d, "actionCopy").enabled)
    }

    function test_noCopyWithThinkingWithoutThinking() {
        const d = assistant({ thinking: "", thinkingState: "none" })
        verify(!findChild(d, "actionCopyWithThinking").visible)
        verify(!findChild(d, "thinkingBlock").visible)
    }

    function test_userMessageEditAndResend() {
        const d = make({ messageId: 3, role: "user", content: "What is 2+2?" })
        verify(findChild(d, "userBubble").visible)
        compare(findChild(d, "userText").text, "What is 2+2?")
        verify(!findChild(d, "thinkingBlock").visible)
        verify(!findChild(d, "actionRegenerate").visible)
        mouseClick(findChild(d, "actionEdit"))
        verify(d.editing)
        const editor = findChild(d, "editInput")
        verify(editor.visible)
        verify(editor.activeFocus)
        compare(editor.text, "What is 2+2?")
        keyClick(Qt.Key_Backspace)
        keyClick(Qt.Key_Backspace)
        keySequence("3,?")
        // Shift+Enter is a new line in the editor too.
        keyClick(Qt.Key_Return, Qt.ShiftModifier)
        keyClick(Qt.Key_Return)
        compare(editSpy.count, 1)
        compare(editSpy.signalArguments[0][0], 3)
        compare(editSpy.signalArguments[0][1], "What is 2+3?")
        verify(!d.editing)
        verify(findChild(d, "userBubble").visible)
    }

    function test_editCancelledByEscape() {
        const d = make({ messageId: 3, role: "user", content: "Hello" })
        d.startEditing()
        keyClick(Qt.Key_X)
        keyClick(Qt.Key_Escape)
        verify(!d.editing)
        compare(editSpy.count, 0)
        compare(findChild(d, "userText").text, "Hello")
    }

    function test_editDroppedWhenTheDelegateIsReused() {
        const d = make({ messageId: 3, role: "user", content: "Hello" })
        d.startEditing()
        d.messageId = 4
        verify(!d.editing)
    }
}
