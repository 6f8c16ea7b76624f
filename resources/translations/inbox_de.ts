<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>ConversationListModel</name>
    <message numerus="yes">
        <location filename="../../ui/models.py" line="138" />
        <source>%1, %n unread</source>
        <translation><numerusform>%1, %n ungelesen</numerusform><numerusform>%1, %n ungelesen</numerusform></translation>
    </message>
</context>
<context>
    <name>InboxController</name>
    <message>
        <location filename="../../ui/controller.py" line="101" />
        <source>The message could not be queued. Please try again.</source>
        <translation>Die Nachricht konnte nicht in die Warteschlange gestellt werden. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="131" />
        <source>Online</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="132" />
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="135" />
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../ui/login.py" line="41" />
        <source>Sign in — Praxis Inbox</source>
        <translation>Anmelden — Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="45" />
        <source>Sign in to your practice inbox</source>
        <translation>Bei Ihrem Praxis-Posteingang anmelden</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="48" />
        <source>Username</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="51" />
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="53" />
        <source>Relay address</source>
        <translation>Relay-Adresse</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="58" />
        <source>Sign-in problem</source>
        <translation>Anmeldeproblem</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="62" />
        <source>&amp;Username</source>
        <translation>&amp;Benutzername</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="63" />
        <source>&amp;Password</source>
        <translation>&amp;Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="64" />
        <source>&amp;Relay</source>
        <translation>&amp;Relay</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="70" />
        <location filename="../../ui/login.py" line="71" />
        <source>Sign in</source>
        <translation>Anmelden</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="72" />
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="87" />
        <source>Please enter your username and the relay address.</source>
        <translation>Bitte Benutzername und Relay-Adresse eingeben.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/main_window.py" line="75" />
        <source>Praxis Inbox</source>
        <translation>Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="119" />
        <location filename="../../ui/main_window.py" line="130" />
        <source>Conversations</source>
        <translation>Unterhaltungen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="145" />
        <source>Select a conversation to read and reply.</source>
        <translation>Wählen Sie eine Unterhaltung, um zu lesen und zu antworten.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="164" />
        <source>Patient name</source>
        <translation>Name des Patienten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="167" />
        <source>Phone number</source>
        <translation>Telefonnummer</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="174" />
        <source>24-hour window</source>
        <translation>24-Stunden-Fenster</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="180" />
        <source>Messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="192" />
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="194" />
        <location filename="../../ui/main_window.py" line="280" />
        <source>Write a message — Enter sends, Shift+Enter adds a line</source>
        <translation>Nachricht schreiben — Enter sendet, Umschalt+Enter für neue Zeile</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="197" />
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="199" />
        <source>Send message</source>
        <translation>Nachricht senden</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="214" />
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="221" />
        <source>Signed in as %1 (%2)</source>
        <translation>Angemeldet als %1 (%2)</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/main_window.py" line="269" />
        <source>Window open: %n h left</source>
        <translation><numerusform>Fenster offen: noch %n h</numerusform><numerusform>Fenster offen: noch %n h</numerusform></translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="271" />
        <source>24-hour window closed</source>
        <translation>24-h-Fenster geschlossen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="282" />
        <source>The 24-hour window is closed: only an approved template can be sent.</source>
        <translation>Das 24-h-Fenster ist geschlossen: Nur eine freigegebene Vorlage kann gesendet werden.</translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <location filename="../../ui/delegates.py" line="324" />
        <source>[%1 message]</source>
        <translation>[%1-Nachricht]</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="377" />
        <source>Today</source>
        <translation>Heute</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="379" />
        <source>Yesterday</source>
        <translation>Gestern</translation>
    </message>
</context>
<context>
    <name>ThreadModel</name>
    <message>
        <location filename="../../ui/models.py" line="292" />
        <source>Not delivered</source>
        <translation>Nicht zugestellt</translation>
    </message>
    <message>
        <location filename="../../ui/models.py" line="295" />
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/models.py" line="297" />
        <source>Practice</source>
        <translation>Praxis</translation>
    </message>
</context>
<context>
    <name>ThreadView</name>
    <message>
        <location filename="../../ui/thread_view.py" line="115" />
        <source>No messages in this conversation yet.</source>
        <translation>Noch keine Nachrichten in dieser Unterhaltung.</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <location filename="../../ui/app.py" line="250" />
        <source>Signing in failed: %1</source>
        <translation>Anmeldung fehlgeschlagen: %1</translation>
    </message>
    <message>
        <location filename="../../ui/app.py" line="251" />
        <source>Signing in failed. Check the relay address and your connection, then try again.</source>
        <translation>Anmeldung fehlgeschlagen. Bitte Relay-Adresse und Verbindung prüfen und erneut versuchen.</translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <location filename="../../ui/main_window.py" line="50" />
        <source>reception</source>
        <translation>Empfang</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="51" />
        <source>nurse</source>
        <translation>Pflege</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="52" />
        <source>clinician</source>
        <translation>Ärztlicher Dienst</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="53" />
        <source>administrator</source>
        <translation>Administration</translation>
    </message>
</context>
</TS>