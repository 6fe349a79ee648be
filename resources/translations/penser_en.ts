<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>ThinkingBlock</name>
    <message numerus="yes">
        <source>Thought stopped after %n second(s)</source>
        <translation>
            <numerusform>Thought stopped after %n second</numerusform>
            <numerusform>Thought stopped after %n seconds</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Thinking interrupted after %n second(s)</source>
        <translation>
            <numerusform>Thinking interrupted after %n second</numerusform>
            <numerusform>Thinking interrupted after %n seconds</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Thought for %n second(s)</source>
        <translation>
            <numerusform>Thought for %n second</numerusform>
            <numerusform>Thought for %n seconds</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>penser::gui::EngineWorker</name>
    <message numerus="yes">
        <source>%n thread(s)</source>
        <translation>
            <numerusform>%n thread</numerusform>
            <numerusform>%n threads</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>penser::gui::ExportController</name>
    <message numerus="yes">
        <source>Exported %n conversation(s) to %1.</source>
        <translation>
            <numerusform>Exported %n conversation to %1.</numerusform>
            <numerusform>Exported %n conversations to %1.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>penser::gui::MessageListModel</name>
    <message numerus="yes">
        <source>%n tokens</source>
        <translation>
            <numerusform>%n token</numerusform>
            <numerusform>%n tokens</numerusform>
        </translation>
    </message>
</context>
</TS>
