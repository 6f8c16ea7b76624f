<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>ConversationDelegate</name>
    <message>
        <location filename="../../ui/delegates.py" line="215" />
        <source>%1 is typing…</source>
        <translation>%1 schreibt…</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="218" />
        <source>Escalated</source>
        <translation>Eskaliert</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="224" />
        <source>Yours</source>
        <translation>Ihres</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="226" />
        <source>a colleague</source>
        <translation>eine Kollegin/ein Kollege</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="227" />
        <source>Claimed by %1</source>
        <translation>Übernommen von %1</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="229" />
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
</context>
<context>
    <name>InboxController</name>
    <message>
        <location filename="../../ui/controller.py" line="123" />
        <source>The message could not be queued. Please try again.</source>
        <translation>Die Nachricht konnte nicht in die Warteschlange gestellt werden. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="144" />
        <source>That did not work. Please try again.</source>
        <translation>Das hat nicht geklappt. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="177" />
        <source>Unlocking needs a newer engine; restart the app to sign in again.</source>
        <translation>Zum Entsperren fehlt noch die Unterstützung; bitte die App neu starten und erneut anmelden.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="184" />
        <location filename="../../ui/controller.py" line="187" />
        <source>That password did not unlock the inbox.</source>
        <translation>Mit diesem Passwort ließ sich der Posteingang nicht entsperren.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="200" />
        <source>Retrying is not available in this version.</source>
        <translation>Erneutes Senden ist in dieser Version nicht verfügbar.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="206" />
        <source>The message could not be queued again. Please try later.</source>
        <translation>Die Nachricht konnte nicht erneut eingereiht werden. Bitte später versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="312" />
        <source>Online</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="313" />
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="316" />
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="318" />
        <source>Locked: sync paused</source>
        <translation>Gesperrt: Abgleich pausiert</translation>
    </message>
</context>
<context>
    <name>LockPage</name>
    <message>
        <location filename="../../ui/pages.py" line="209" />
        <source>Praxis Inbox is locked</source>
        <translation>Praxis Inbox ist gesperrt</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="210" />
        <source>Patient data is hidden. Enter your password to continue.</source>
        <translation>Patientendaten sind verborgen. Geben Sie Ihr Passwort ein, um fortzufahren.</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="211" />
        <location filename="../../ui/pages.py" line="212" />
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="213" />
        <location filename="../../ui/pages.py" line="214" />
        <source>Unlock</source>
        <translation>Entsperren</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="215" />
        <source>Unlock problem</source>
        <translation>Problem beim Entsperren</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="216" />
        <source>Locked</source>
        <translation>Gesperrt</translation>
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
        <source>Offline since %1</source>
        <translation>Offline seit %1</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="615" />
        <source>Next unread conversation</source>
        <translation>Nächstes ungelesenes Gespräch</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="616" />
        <location filename="../../ui/main_window.py" line="654" />
        <source>Search messages</source>
        <translation>Nachrichten durchsuchen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="617" />
        <location filename="../../ui/main_window.py" line="668" />
        <source>Quick replies</source>
        <translation>Schnellantworten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="618" />
        <source>Write a message</source>
        <translation>Nachricht schreiben</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="623" />
        <location filename="../../ui/main_window.py" line="643" />
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="624" />
        <source>Lock the inbox</source>
        <translation>Posteingang sperren</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="625" />
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="630" />
        <source>%1 (coming soon)</source>
        <translation>%1 (folgt)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="257" />
        <location filename="../../ui/main_window.py" line="635" />
        <location filename="../../ui/main_window.py" line="997" />
        <location filename="../../ui/main_window.py" line="1284" />
        <source>Praxis Inbox</source>
        <translation>Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="636" />
        <source>Views</source>
        <translation>Ansichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="637" />
        <source>SAVED VIEWS</source>
        <translation>GESPEICHERTE ANSICHTEN</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="638" />
        <source>Saved views</source>
        <translation>Gespeicherte Ansichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="639" />
        <source>Delete removes the selected saved view</source>
        <translation>Entf entfernt die gewählte gespeicherte Ansicht</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="641" />
        <source>Save view…</source>
        <translation>Ansicht speichern…</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="641" />
        <source>Keep this view and label filter</source>
        <translation>Diese Ansicht samt Label-Filter behalten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="642" />
        <source>Shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="642" />
        <source>Keyboard shortcuts (F1)</source>
        <translation>Tastenkürzel (F1)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="643" />
        <source>Language and theme (Ctrl+,)</source>
        <translation>Sprache und Design (Strg+,)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="644" />
        <source>Lock</source>
        <translation>Sperren</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="644" />
        <source>Lock the inbox (Ctrl+Shift+L)</source>
        <translation>Posteingang sperren (Strg+Umschalt+L)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="649" />
        <source>Locking needs an engine that can lock its cache (coming soon).</source>
        <translation>Sperren setzt voraus, dass die Anwendung ihren Speicher sperren kann (folgt).</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="652" />
        <source>Conversations</source>
        <translation>Unterhaltungen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="653" />
        <source>Search messages (Ctrl+F)</source>
        <translation>Nachrichten suchen (Strg+F)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="655" />
        <source>Filter by label</source>
        <translation>Nach Label filtern</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="657" />
        <source>Search results</source>
        <translation>Suchergebnisse</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="658" />
        <source>Search summary</source>
        <translation>Suchzusammenfassung</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="659" />
        <source>Select a conversation to read and reply.</source>
        <translation>Wählen Sie eine Unterhaltung, um zu lesen und zu antworten.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="660" />
        <source>Patient name</source>
        <translation>Name des Patienten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="661" />
        <source>Phone number</source>
        <translation>Telefonnummer</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="662" />
        <source>24-hour window</source>
        <translation>24-Stunden-Fenster</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="663" />
        <source>Jump to latest</source>
        <translation>Zur neuesten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="664" />
        <source>Jump to the newest message</source>
        <translation>Zur neuesten Nachricht springen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="665" />
        <source>Messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="666" />
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="667" />
        <source>Composer note</source>
        <translation>Hinweis zum Eingabefeld</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="669" />
        <source>Quick replies (/ or Ctrl+/)</source>
        <translation>Schnellantworten (/ oder Strg+/)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="804" />
        <source>All labels</source>
        <translation>Alle Labels</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="933" />
        <source>Write a message — Enter sends, Shift+Enter adds a line, / for quick replies</source>
        <translation>Nachricht schreiben – Enter sendet, Umschalt+Enter neue Zeile, / für Schnellantworten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="935" />
        <source>Template mode: free text is disabled outside the 24-hour window.</source>
        <translation>Vorlagenmodus: Außerhalb des 24-Stunden-Fensters ist freier Text gesperrt.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="939" />
        <source>The 24-hour window is closed: WhatsApp only delivers approved templates now. Template sending arrives with the template catalogue.</source>
        <translation>Das 24-Stunden-Fenster ist geschlossen: WhatsApp stellt jetzt nur freigegebene Vorlagen zu. Vorlagen lassen sich senden, sobald der Vorlagenkatalog da ist.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="949" />
        <source>not linked yet</source>
        <translation>noch nicht verknüpft</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/main_window.py" line="958" />
        <source>open, %n h left</source>
        <translation>
            <numerusform>offen, noch %n Std.</numerusform>
            <numerusform>offen, noch %n Std.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="960" />
        <source>closed — templates only</source>
        <translation>geschlossen – nur Vorlagen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="964" />
        <source>unassigned</source>
        <translation>nicht zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="966" />
        <source>you</source>
        <translation>Sie</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="968" />
        <location filename="../../ui/main_window.py" line="1031" />
        <source>a colleague</source>
        <translation>Kollegin/Kollege</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="971" />
        <source>escalated</source>
        <translation>eskaliert</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="974" />
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1009" />
        <location filename="../../ui/main_window.py" line="1211" />
        <source>Fill in %1 before sending.</source>
        <translation>Bitte %1 vor dem Senden ausfüllen.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1038" />
        <source>Take over this conversation?</source>
        <translation>Gespräch übernehmen?</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1040" />
        <source>%1 is handling this conversation. Reply anyway and take it over?</source>
        <translation>%1 bearbeitet dieses Gespräch. Trotzdem antworten und es übernehmen?</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1108" />
        <source>Save view</source>
        <translation>Ansicht speichern</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1109" />
        <source>Name for this view:</source>
        <translation>Name für diese Ansicht:</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1176" />
        <source>This session has ended. Close the window and sign in again.</source>
        <translation>Diese Sitzung ist beendet. Schließen Sie das Fenster und melden Sie sich erneut an.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/main_window.py" line="1241" />
        <source>%n messages found</source>
        <translation>
            <numerusform>%n Nachricht gefunden</numerusform>
            <numerusform>%n Nachrichten gefunden</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1285" />
        <source>New message in %1</source>
        <translation>Neue Nachricht in %1</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="670" />
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="619" />
        <source>Claim conversation</source>
        <translation>Gespräch übernehmen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="620" />
        <source>Resolve conversation</source>
        <translation>Gespräch erledigen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="621" />
        <source>Escalate conversation</source>
        <translation>Gespräch eskalieren</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="622" />
        <source>Internal note</source>
        <translation>Interne Notiz</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="671" />
        <location filename="../../ui/main_window.py" line="768" />
        <source>Send message</source>
        <translation>Nachricht senden</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="672" />
        <location filename="../../ui/main_window.py" line="673" />
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="675" />
        <source>NAME</source>
        <translation>NAME</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="676" />
        <source>PHONE</source>
        <translation>TELEFON</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="677" />
        <source>24-HOUR WINDOW</source>
        <translation>24-STUNDEN-FENSTER</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="678" />
        <source>STATUS</source>
        <translation>STATUS</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="679" />
        <source>LABELS</source>
        <translation>LABELS</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="680" />
        <source>DATE OF BIRTH</source>
        <translation>GEBURTSDATUM</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="681" />
        <source>APPOINTMENTS</source>
        <translation>TERMINE</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="682" />
        <source>CONSENT</source>
        <translation>EINWILLIGUNGEN</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="687" />
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="688" />
        <location filename="../../ui/main_window.py" line="695" />
        <source>Signed-in user</source>
        <translation>Angemeldet</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="691" />
        <source>Signed in as %1 (%2)</source>
        <translation>Angemeldet als %1 (%2)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="768" />
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="769" />
        <source>New line</source>
        <translation>Neue Zeile</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="769" />
        <source>Shift+Enter</source>
        <translation>Umschalt+Enter</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="770" />
        <source>Quick replies in the composer</source>
        <translation>Schnellantworten im Eingabefeld</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/main_window.py" line="909" />
        <source>Window open: %n h left</source>
        <translation>
            <numerusform>Fenster offen: noch %n h</numerusform>
            <numerusform>Fenster offen: noch %n h</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="911" />
        <source>24-hour window closed</source>
        <translation>24-h-Fenster geschlossen</translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <location filename="../../ui/delegates.py" line="440" />
        <source>[%1 message]</source>
        <translation>[%1-Nachricht]</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="445" />
        <source>Photo</source>
        <translation>Foto</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="446" />
        <source>Sticker</source>
        <translation>Sticker</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="447" />
        <source>Video</source>
        <translation>Video</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="448" />
        <location filename="../../ui/delegates.py" line="449" />
        <source>Voice message</source>
        <translation>Sprachnachricht</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="452" />
        <source>Document</source>
        <translation>Dokument</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="484" />
        <source>reason unknown</source>
        <translation>Grund unbekannt</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="485" />
        <source>Not delivered: %1</source>
        <translation>Nicht zugestellt: %1</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="488" />
        <source>Retry</source>
        <translation>Erneut senden</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="519" />
        <location filename="../../ui/delegates.py" line="689" />
        <source>Internal note</source>
        <translation>Interne Notiz</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="604" />
        <source>Today</source>
        <translation>Heute</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="606" />
        <source>Yesterday</source>
        <translation>Gestern</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="644" />
        <source>Earlier message (not loaded)</source>
        <translation>Frühere Nachricht (nicht geladen)</translation>
    </message>
</context>
<context>
    <name>QuickReplyPalette</name>
    <message>
        <location filename="../../ui/quick_replies.py" line="190" />
        <location filename="../../ui/quick_replies.py" line="205" />
        <source>Quick replies</source>
        <translation>Schnellantworten</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="200" />
        <source>Search quick replies</source>
        <translation>Schnellantworten durchsuchen</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="201" />
        <source>Search quick replies…</source>
        <translation>Schnellantworten suchen…</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="210" />
        <source>Preview</source>
        <translation>Vorschau</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="216" />
        <source>Missing values</source>
        <translation>Fehlende Angaben</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="255" />
        <source>No quick reply matches.</source>
        <translation>Keine Schnellantwort passt.</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="261" />
        <source>Missing: %1 — fill it in before sending.</source>
        <translation>Fehlt: %1 – bitte vor dem Senden ausfüllen.</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../../ui/pages.py" line="117" />
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="119" />
        <source>Changes apply at once and are kept for the next start on this computer.</source>
        <translation>Änderungen gelten sofort und bleiben auf diesem Computer für den nächsten Start erhalten.</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="121" />
        <source>&amp;Language</source>
        <translation>&amp;Sprache</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="122" />
        <source>&amp;Theme</source>
        <translation>&amp;Design</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="123" />
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="124" />
        <source>Theme</source>
        <translation>Design</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="125" />
        <location filename="../../ui/pages.py" line="126" />
        <source>Back to the inbox</source>
        <translation>Zurück zum Posteingang</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="128" />
        <source>Follow the system</source>
        <translation>Wie das System</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="131" />
        <source>Pseudo (finds clipped text)</source>
        <translation>Pseudo (findet abgeschnittenen Text)</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="138" />
        <source>Light</source>
        <translation>Hell</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="139" />
        <source>Dark</source>
        <translation>Dunkel</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../../ui/pages.py" line="244" />
        <location filename="../../ui/pages.py" line="245" />
        <location filename="../../ui/pages.py" line="250" />
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="264" />
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="271" />
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="271" />
        <source>Shortcut</source>
        <translation>Kürzel</translation>
    </message>
</context>
<context>
    <name>ThreadModel</name>
    <message>
        <location filename="../../ui/models.py" line="368" />
        <source>Not delivered</source>
        <translation>Nicht zugestellt</translation>
    </message>
    <message>
        <location filename="../../ui/models.py" line="371" />
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/models.py" line="373" />
        <source>Practice</source>
        <translation>Praxis</translation>
    </message>
</context>
<context>
    <name>ThreadView</name>
    <message>
        <location filename="../../ui/thread_view.py" line="141" />
        <source>No messages in this conversation yet.</source>
        <translation>Noch keine Nachrichten in dieser Unterhaltung.</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <location filename="../../ui/app.py" line="352" />
        <source>Signing in failed: %1</source>
        <translation>Anmeldung fehlgeschlagen: %1</translation>
    </message>
    <message>
        <location filename="../../ui/app.py" line="353" />
        <source>Signing in failed. Check the relay address and your connection, then try again.</source>
        <translation>Anmeldung fehlgeschlagen. Bitte Relay-Adresse und Verbindung prüfen und erneut versuchen.</translation>
    </message>
</context>
<context>
    <name>delegates</name>
    <message>
        <location filename="../../ui/delegates.py" line="82" />
        <source>%1 h</source>
        <translation>%1 Std.</translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <location filename="../../ui/main_window.py" line="112" />
        <source>reception</source>
        <translation>Empfang</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="113" />
        <source>nurse</source>
        <translation>Pflege</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="114" />
        <source>clinician</source>
        <translation>Ärztlicher Dienst</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="115" />
        <source>administrator</source>
        <translation>Administration</translation>
    </message>
</context>
<context>
    <name>views</name>
    <message>
        <location filename="../../ui/views.py" line="52" />
        <source>Mine</source>
        <translation>Meine</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="53" />
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="54" />
        <source>All open</source>
        <translation>Alle offenen</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="55" />
        <source>Escalated</source>
        <translation>Eskaliert</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="56" />
        <location filename="../../ui/views.py" line="68" />
        <location filename="../../ui/views.py" line="71" />
        <source>Waiting for patient</source>
        <translation>Wartet auf Patient</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="57" />
        <source>Window closing</source>
        <translation>Fenster schließt bald</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="58" />
        <location filename="../../ui/views.py" line="69" />
        <source>Snoozed</source>
        <translation>Zurückgestellt</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="59" />
        <location filename="../../ui/views.py" line="70" />
        <source>Resolved</source>
        <translation>Erledigt</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="67" />
        <source>Open</source>
        <translation>Offen</translation>
    </message>
</context>
</TS>