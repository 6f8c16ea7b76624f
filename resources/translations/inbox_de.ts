<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name></name>
    <message>
        <location filename="../../ui/patient_panel.py" line="98"/>
        <source>booked</source>
        <translation>gebucht</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="99"/>
        <source>confirmed</source>
        <translation>bestätigt</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="100"/>
        <source>cancelled</source>
        <translation>abgesagt</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="101"/>
        <source>attended</source>
        <translation>wahrgenommen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="102"/>
        <source>no-show</source>
        <translation>nicht erschienen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="108"/>
        <source>Care conversation</source>
        <translation>Behandlungskontakt</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="109"/>
        <source>Reminders</source>
        <translation>Erinnerungen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="110"/>
        <source>Results</source>
        <translation>Befunde</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="116"/>
        <source>signed form</source>
        <translation>schriftlich</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="117"/>
        <source>recorded by staff</source>
        <translation>vom Team erfasst</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="118"/>
        <source>patient&apos;s message</source>
        <translation>per Nachricht</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="119"/>
        <source>WhatsApp setting</source>
        <translation>WhatsApp-Einstellung</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="120"/>
        <source>practice system</source>
        <translation>Praxissystem</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="201"/>
        <source>Free times could not be loaded</source>
        <translation>Freie Termine konnten nicht geladen werden</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="215"/>
        <source>The appointment was not booked</source>
        <translation>Der Termin wurde nicht gebucht</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="229"/>
        <source>The appointment was not moved</source>
        <translation>Der Termin wurde nicht verlegt</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="242"/>
        <source>The appointment was not cancelled</source>
        <translation>Der Termin wurde nicht abgesagt</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="251"/>
        <source>Consent was not recorded</source>
        <translation>Die Einwilligung wurde nicht erfasst</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="263"/>
        <source>Search failed</source>
        <translation>Suche fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="270"/>
        <source>The patient was not linked</source>
        <translation>Der Patient wurde nicht verknüpft</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="278"/>
        <source>The patient was not created</source>
        <translation>Der Patient wurde nicht angelegt</translation>
    </message>
</context>
<context>
    <name>AuditActions</name>
    <message>
        <location filename="../../ui/audit_view.py" line="81"/>
        <source>Signed in</source>
        <translation>Angemeldet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="82"/>
        <source>Sign-in failed</source>
        <translation>Anmeldung fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="83"/>
        <source>Signed out</source>
        <translation>Abgemeldet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="84"/>
        <source>User created</source>
        <translation>Benutzer angelegt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="85"/>
        <source>User disabled</source>
        <translation>Benutzer deaktiviert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="86"/>
        <source>Role changed</source>
        <translation>Rolle geändert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="87"/>
        <source>Team created</source>
        <translation>Team angelegt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="88"/>
        <source>Team membership changed</source>
        <translation>Teammitgliedschaft geändert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="89"/>
        <source>Access denied</source>
        <translation>Zugriff verweigert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="90"/>
        <source>Device wipe ordered</source>
        <translation>Gerätelöschung angeordnet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="91"/>
        <source>Device wipe lifted</source>
        <translation>Gerätelöschung aufgehoben</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="92"/>
        <source>Two-factor setup started</source>
        <translation>Einrichtung der Zwei-Faktor-Anmeldung begonnen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="95"/>
        <source>Two-factor sign-in turned on</source>
        <translation>Zwei-Faktor-Anmeldung eingeschaltet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="96"/>
        <source>Two-factor sign-in turned off</source>
        <translation>Zwei-Faktor-Anmeldung ausgeschaltet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="100"/>
        <source>Conversation opened</source>
        <translation>Unterhaltung geöffnet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="101"/>
        <source>Search</source>
        <translation>Suche</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="102"/>
        <source>Export</source>
        <translation>Export</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="103"/>
        <source>Message sent</source>
        <translation>Nachricht gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="104"/>
        <source>Conversation claimed</source>
        <translation>Unterhaltung übernommen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="105"/>
        <source>Conversation released</source>
        <translation>Unterhaltung freigegeben</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="106"/>
        <source>Conversation taken over</source>
        <translation>Unterhaltung abgenommen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="107"/>
        <source>Conversation assigned</source>
        <translation>Unterhaltung zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="108"/>
        <source>Status changed</source>
        <translation>Status geändert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="109"/>
        <source>Labels changed</source>
        <translation>Labels geändert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="110"/>
        <source>Internal note added</source>
        <translation>Interne Notiz hinzugefügt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="111"/>
        <source>Consent recorded</source>
        <translation>Einwilligung erfasst</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="113"/>
        <source>Appointment booked</source>
        <translation>Termin gebucht</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="114"/>
        <source>Appointment moved</source>
        <translation>Termin verschoben</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="115"/>
        <source>Appointment cancelled</source>
        <translation>Termin abgesagt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="118"/>
        <source>Patient created</source>
        <translation>Patient angelegt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="119"/>
        <source>Patient linked to number</source>
        <translation>Patient mit Nummer verknüpft</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="121"/>
        <source>Result sent</source>
        <translation>Befund gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="122"/>
        <source>Result sent despite identity warning</source>
        <translation>Befund trotz Identitätswarnung gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="125"/>
        <source>Result viewed</source>
        <translation>Befund angesehen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="126"/>
        <source>Result downloaded</source>
        <translation>Befund heruntergeladen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="127"/>
        <source>Result page: wrong answer</source>
        <translation>Befundseite: falsche Eingabe</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="130"/>
        <source>Result page locked</source>
        <translation>Befundseite gesperrt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="132"/>
        <source>Old data deleted (retention)</source>
        <translation>Alte Daten gelöscht (Aufbewahrungsfrist)</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="135"/>
        <source>Legal hold placed</source>
        <translation>Löschsperre gesetzt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="136"/>
        <source>Legal hold released</source>
        <translation>Löschsperre aufgehoben</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="137"/>
        <source>Patient data exported</source>
        <translation>Patientendaten exportiert (Art. 15)</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="138"/>
        <source>Patient data erased</source>
        <translation>Patientendaten gelöscht (Art. 17)</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="140"/>
        <source>Escalation created</source>
        <translation>Eskalation erstellt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="141"/>
        <source>Escalation acknowledged</source>
        <translation>Eskalation angenommen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="144"/>
        <source>Escalation reassigned</source>
        <translation>Eskalation neu zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="147"/>
        <source>Escalation resolved</source>
        <translation>Eskalation erledigt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="148"/>
        <source>Possible emergency detected</source>
        <translation>Möglicher Notfall erkannt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="151"/>
        <source>Appointment on a closed day flagged</source>
        <translation>Termin an einem Schließtag gemeldet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="154"/>
        <source>Call requested</source>
        <translation>Anruf angefordert</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="155"/>
        <source>Call outcome recorded</source>
        <translation>Anrufergebnis erfasst</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="157"/>
        <source>Bot handed over to staff</source>
        <translation>Bot an das Team übergeben</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="158"/>
        <source>Appointment booked by chat bot</source>
        <translation>Termin vom Chat-Bot gebucht</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="159"/>
        <source>Bot stopped</source>
        <translation>Bot angehalten</translation>
    </message>
</context>
<context>
    <name>AuditController</name>
    <message>
        <location filename="../../ui/audit_view.py" line="279"/>
        <source>The relay could not be asked. Please try again.</source>
        <translation>Das Relay war nicht erreichbar. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="341"/>
        <source>The file could not be written: %1</source>
        <translation>Die Datei konnte nicht geschrieben werden: %1</translation>
    </message>
</context>
<context>
    <name>AuditTableModel</name>
    <message>
        <location filename="../../ui/audit_view.py" line="191"/>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="192"/>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="193"/>
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="194"/>
        <source>Conversation</source>
        <translation>Gespräch</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="195"/>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="196"/>
        <source>Address</source>
        <translation>Adresse</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="221"/>
        <source>(relay)</source>
        <translation>(Relay)</translation>
    </message>
</context>
<context>
    <name>AuditWindow</name>
    <message>
        <location filename="../../ui/audit_view.py" line="471"/>
        <source>Exported to %1</source>
        <translation>Exportiert nach %1</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="477"/>
        <source>Audit trail — Praxis Inbox</source>
        <translation>Audit-Protokoll — Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="478"/>
        <source>Audit trail</source>
        <translation>Audit-Protokoll</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="479"/>
        <source>← Inbox</source>
        <translation>← Posteingang</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="480"/>
        <source>Sign in as an administrator to see the audit trail.</source>
        <translation>Melden Sie sich mit einem Administrationskonto an, um das Audit-Protokoll zu sehen.</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="481"/>
        <source>Username</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="482"/>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="483"/>
        <source>Code</source>
        <translation>Code</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="484"/>
        <source>Sign in</source>
        <translation>Anmelden</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="485"/>
        <source>User</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="486"/>
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="487"/>
        <location filename="../../ui/audit_view.py" line="495"/>
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="488"/>
        <source>username</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="489"/>
        <source>name, number or record number</source>
        <translation>Name, Telefon- oder Patientennummer</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="490"/>
        <source>From</source>
        <translation>Von</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="491"/>
        <source>To</source>
        <translation>Bis</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="492"/>
        <source>Apply filters</source>
        <translation>Filter anwenden</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="493"/>
        <source>Load more</source>
        <translation>Mehr laden</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="494"/>
        <source>Export CSV…</source>
        <translation>CSV exportieren…</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="521"/>
        <source>All actions</source>
        <translation>Alle Aktionen</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="534"/>
        <source>Not signed in</source>
        <translation>Nicht angemeldet</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="548"/>
        <source>Signed in as %1.</source>
        <translation>Angemeldet als %1.</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="573"/>
        <source>%1 entries shown</source>
        <translation>%1 Einträge angezeigt</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="574"/>
        <source>more available</source>
        <translation>weitere vorhanden</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="581"/>
        <source>✔ Hash chain verified: the audit trail is intact.</source>
        <translation>✔ Hash-Kette geprüft: Das Audit-Protokoll ist unverändert.</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="587"/>
        <source>✘ Hash chain broken: %1 problem(s); rows were altered or deleted.</source>
        <translation>✘ Hash-Kette unterbrochen: %1 Problem(e); Einträge wurden geändert oder gelöscht.</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="599"/>
        <source>Export audit trail</source>
        <translation>Audit-Protokoll exportieren</translation>
    </message>
    <message>
        <location filename="../../ui/audit_view.py" line="601"/>
        <source>CSV files (*.csv)</source>
        <translation>CSV-Dateien (*.csv)</translation>
    </message>
</context>
<context>
    <name>BookingDialog</name>
    <message>
        <location filename="../../ui/booking_dialog.py" line="60"/>
        <source>Move appointment — %1</source>
        <translation>Termin verlegen — %1</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="62"/>
        <source>Book appointment — %1</source>
        <translation>Termin buchen — %1</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="67"/>
        <source>Appointment type</source>
        <translation>Terminart</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="69"/>
        <location filename="../../ui/booking_dialog.py" line="72"/>
        <source>Clinician</source>
        <translation>Ärztin/Arzt</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="70"/>
        <source>Any clinician</source>
        <translation>Beliebig</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="71"/>
        <source>Type</source>
        <translation>Art</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="76"/>
        <source>Free times</source>
        <translation>Freie Termine</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="87"/>
        <source>Move here</source>
        <translation>Hierhin verlegen</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="87"/>
        <source>Book</source>
        <translation>Buchen</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="101"/>
        <location filename="../../ui/booking_dialog.py" line="123"/>
        <source>Looking for free times…</source>
        <translation>Suche freie Termine…</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="165"/>
        <source>Choose a time.</source>
        <translation>Bitte eine Zeit wählen.</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="165"/>
        <source>No free times in the next two weeks.</source>
        <translation>In den nächsten zwei Wochen ist nichts frei.</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="187"/>
        <source>Booking…</source>
        <translation>Wird gebucht…</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="196"/>
        <source>Someone booked that time first. Please choose another one.</source>
        <translation>Diese Zeit wurde gerade anderweitig vergeben. Bitte eine andere wählen.</translation>
    </message>
</context>
<context>
    <name>CallEvents</name>
    <message>
        <location filename="../../ui/call_events.py" line="30"/>
        <source>Reached</source>
        <translation>Erreicht</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="31"/>
        <source>Not reached</source>
        <translation>Nicht erreicht</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="32"/>
        <source>Callback scheduled</source>
        <translation>Rückruf vereinbart</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="51"/>
        <source>Incoming WhatsApp call from the patient</source>
        <translation>Eingehender WhatsApp-Anruf des Patienten</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="53"/>
        <source>The patient answered the WhatsApp call</source>
        <translation>Der Patient hat den WhatsApp-Anruf angenommen</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="57"/>
        <source>WhatsApp call from the patient · %1</source>
        <translation>WhatsApp-Anruf des Patienten · %1</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="59"/>
        <source>WhatsApp call to the patient · %1</source>
        <translation>WhatsApp-Anruf an den Patienten · %1</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="63"/>
        <source>Missed WhatsApp call from the patient</source>
        <translation>Verpasster WhatsApp-Anruf des Patienten</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="65"/>
        <source>WhatsApp call not answered</source>
        <translation>WhatsApp-Anruf nicht angenommen</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="68"/>
        <source>The patient declined the WhatsApp call</source>
        <translation>Der Patient hat den WhatsApp-Anruf abgelehnt</translation>
    </message>
    <message>
        <location filename="../../ui/call_events.py" line="71"/>
        <source>WhatsApp call event: %1</source>
        <translation>WhatsApp-Anrufereignis: %1</translation>
    </message>
</context>
<context>
    <name>CallOutcomeDialog</name>
    <message>
        <location filename="../../ui/call_dialog.py" line="54"/>
        <source>Log call outcome</source>
        <translation>Anrufergebnis erfassen</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="57"/>
        <source>How did the call go?</source>
        <translation>Wie ist der Anruf verlaufen?</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="61"/>
        <source>Reached the patient</source>
        <translation>Patient erreicht</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="62"/>
        <source>Not reached</source>
        <translation>Nicht erreicht</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="63"/>
        <source>Callback scheduled</source>
        <translation>Rückruf vereinbart</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="78"/>
        <source>Note (optional, staff only)</source>
        <translation>Notiz (optional, nur intern)</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="117"/>
        <source>Choose a callback time in the future.</source>
        <translation>Bitte einen Rückrufzeitpunkt in der Zukunft wählen.</translation>
    </message>
    <message>
        <location filename="../../ui/call_dialog.py" line="119"/>
        <source>The note is too long.</source>
        <translation>Die Notiz ist zu lang.</translation>
    </message>
</context>
<context>
    <name>ComposeActions</name>
    <message>
        <location filename="../../ui/compose_actions.py" line="140"/>
        <source>The template could not be sent. Check the connection and try again.</source>
        <translation>Die Vorlage konnte nicht gesendet werden. Bitte Verbindung prüfen und erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/compose_actions.py" line="162"/>
        <source>The note could not be saved: it needs a connection. Try again.</source>
        <translation>Die Notiz konnte nicht gespeichert werden: Dafür ist eine Verbindung nötig. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/compose_actions.py" line="184"/>
        <source>The message could not be scheduled: it needs a connection.</source>
        <translation>Die Nachricht konnte nicht geplant werden: Dafür ist eine Verbindung nötig.</translation>
    </message>
    <message>
        <location filename="../../ui/compose_actions.py" line="203"/>
        <source>The scheduled message could not be cancelled.</source>
        <translation>Die geplante Nachricht konnte nicht abgebrochen werden.</translation>
    </message>
</context>
<context>
    <name>ComposerEdit</name>
    <message>
        <location filename="../../ui/composer.py" line="85"/>
        <source>Mention a colleague</source>
        <translation>Kollegin/Kollegen erwähnen</translation>
    </message>
</context>
<context>
    <name>ComposerModes</name>
    <message>
        <location filename="../../ui/composer.py" line="299"/>
        <source>Note</source>
        <translation>Notiz</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="300"/>
        <source>Internal note mode</source>
        <translation>Modus „Interne Notiz“</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="302"/>
        <source>Write an internal note only colleagues see (Ctrl+Shift+N); @ mentions</source>
        <translation>Interne Notiz nur für das Team schreiben (Strg+Umschalt+N); @ erwähnt</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="304"/>
        <source>Later…</source>
        <translation>Später…</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="305"/>
        <source>Send later</source>
        <translation>Später senden</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="306"/>
        <source>Schedule this message (inside the 24-hour window)</source>
        <translation>Nachricht planen (innerhalb des 24-Stunden-Fensters)</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="379"/>
        <source>Internal note: only colleagues see it. Type @ to mention someone.</source>
        <translation>Interne Notiz: nur für das Team sichtbar. Mit @ jemanden erwähnen.</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="387"/>
        <source>Add note</source>
        <translation>Notiz speichern</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="389"/>
        <source>Send template</source>
        <translation>Vorlage senden</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="412"/>
        <source>No approved template is available yet.</source>
        <translation>Noch keine freigegebene Vorlage verfügbar.</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="434"/>
        <source>Write the message first, then choose when it is sent.</source>
        <translation>Erst die Nachricht schreiben, dann den Sendezeitpunkt wählen.</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="437"/>
        <source>The 24-hour window is closed: nothing can be scheduled.</source>
        <translation>Das 24-Stunden-Fenster ist geschlossen: Es kann nichts geplant werden.</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="458"/>
        <source>The 24-hour window closes at %1: choose an earlier time.</source>
        <translation>Das 24-Stunden-Fenster schließt um %1: Bitte eine frühere Zeit wählen.</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="464"/>
        <source>That time has passed: choose a later one.</source>
        <translation>Diese Zeit ist vorbei: Bitte eine spätere wählen.</translation>
    </message>
</context>
<context>
    <name>ConversationDelegate</name>
    <message>
        <location filename="../../ui/delegates.py" line="227"/>
        <source>%1 is typing…</source>
        <translation>%1 schreibt…</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="230"/>
        <source>Escalated</source>
        <translation>Eskaliert</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="236"/>
        <source>Yours</source>
        <translation>Ihres</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="238"/>
        <source>a colleague</source>
        <translation>eine Kollegin/ein Kollege</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="239"/>
        <source>Claimed by %1</source>
        <translation>Übernommen von %1</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="241"/>
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
</context>
<context>
    <name>CrashReportDialog</name>
    <message>
        <location filename="../../ui/crash_notice.py" line="32"/>
        <location filename="../../ui/crash_notice.py" line="33"/>
        <source>Crash report</source>
        <translation>Absturzbericht</translation>
    </message>
    <message>
        <location filename="../../ui/crash_notice.py" line="36"/>
        <source>Praxis Inbox closed unexpectedly. This report was saved on this PC only; it contains no patient data. Copy it for support if you agree, or delete it.</source>
        <translation>Praxis Inbox wurde unerwartet beendet. Dieser Bericht wurde nur auf diesem PC gespeichert; er enthält keine Patientendaten. Kopieren Sie ihn für den Support, wenn Sie einverstanden sind, oder löschen Sie ihn.</translation>
    </message>
    <message>
        <location filename="../../ui/crash_notice.py" line="43"/>
        <source>Report text</source>
        <translation>Berichtstext</translation>
    </message>
    <message>
        <location filename="../../ui/crash_notice.py" line="46"/>
        <source>Copy for support</source>
        <translation>Für Support kopieren</translation>
    </message>
    <message>
        <location filename="../../ui/crash_notice.py" line="49"/>
        <source>Delete reports</source>
        <translation>Berichte löschen</translation>
    </message>
    <message>
        <location filename="../../ui/crash_notice.py" line="75"/>
        <source>Crash report…</source>
        <translation>Absturzbericht…</translation>
    </message>
    <message>
        <location filename="../../ui/crash_notice.py" line="77"/>
        <source>Review the crash report</source>
        <translation>Absturzbericht ansehen</translation>
    </message>
</context>
<context>
    <name>CreatePatientDialog</name>
    <message>
        <location filename="../../ui/booking_dialog.py" line="292"/>
        <source>Create patient</source>
        <translation>Patient anlegen</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="298"/>
        <source>DD.MM.YYYY</source>
        <translation>TT.MM.JJJJ</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="301"/>
        <source>Given name</source>
        <translation>Vorname</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="302"/>
        <source>Family name</source>
        <translation>Nachname</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="303"/>
        <source>Date of birth</source>
        <translation>Geburtsdatum</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="304"/>
        <source>Record number</source>
        <translation>Patientennummer</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="315"/>
        <source>Create</source>
        <translation>Anlegen</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="333"/>
        <source>Given and family name are needed.</source>
        <translation>Vor- und Nachname sind nötig.</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="338"/>
        <source>The date of birth is not a date (DD.MM.YYYY).</source>
        <translation>Das Geburtsdatum ist kein gültiges Datum (TT.MM.JJJJ).</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="341"/>
        <source>The date of birth lies in the future.</source>
        <translation>Das Geburtsdatum liegt in der Zukunft.</translation>
    </message>
</context>
<context>
    <name>EscalateDialog</name>
    <message>
        <location filename="../../ui/escalations.py" line="594"/>
        <source>Escalate conversation</source>
        <translation>Gespräch eskalieren</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="598"/>
        <source>Why does a clinician need to look at this?</source>
        <translation>Warum muss sich eine Ärztin oder ein Arzt das ansehen?</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="600"/>
        <source>Reason</source>
        <translation>Grund</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="605"/>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="609"/>
        <source>Due</source>
        <translation>Fällig</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="612"/>
        <source>To</source>
        <translation>An</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="615"/>
        <source>Not specified</source>
        <translation>Nicht angegeben</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="616"/>
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="626"/>
        <source>Escalate</source>
        <translation>Eskalieren</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="664"/>
        <source>Give a reason.</source>
        <translation>Bitte einen Grund angeben.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="666"/>
        <source>The reason is too long.</source>
        <translation>Der Grund ist zu lang.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="668"/>
        <source>Choose a due time in the future.</source>
        <translation>Bitte eine Fälligkeit in der Zukunft wählen.</translation>
    </message>
</context>
<context>
    <name>EscalationsController</name>
    <message>
        <location filename="../../ui/escalations.py" line="429"/>
        <source>That did not work. Please try again.</source>
        <translation>Das hat nicht geklappt. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="471"/>
        <source>Escalated.</source>
        <translation>Eskaliert.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="500"/>
        <source>Call outcome saved; it shows in the conversation.</source>
        <translation>Anrufergebnis gespeichert; es erscheint im Gespräch.</translation>
    </message>
</context>
<context>
    <name>EscalationsPage</name>
    <message>
        <location filename="../../ui/escalations.py" line="869"/>
        <source>← Inbox</source>
        <translation>← Posteingang</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="870"/>
        <location filename="../../ui/escalations.py" line="1178"/>
        <source>Escalation queue</source>
        <translation>Eskalationen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="871"/>
        <source>Show resolved</source>
        <translation>Erledigte zeigen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="873"/>
        <source>Open conversation</source>
        <translation>Gespräch öffnen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="874"/>
        <source>Acknowledge</source>
        <translation>Übernehmen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="875"/>
        <source>Reassign…</source>
        <translation>Neu zuweisen…</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="876"/>
        <source>Resolve…</source>
        <translation>Erledigen…</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="877"/>
        <source>Call patient</source>
        <translation>Patient anrufen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="878"/>
        <source>Send video-visit link</source>
        <translation>Videolink senden</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="879"/>
        <source>Log call outcome…</source>
        <translation>Anrufergebnis erfassen…</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="883"/>
        <source>Calls</source>
        <translation>Anrufe</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="910"/>
        <source>%1 open</source>
        <translation>%1 offen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="912"/>
        <source>%1 overdue</source>
        <translation>%1 überfällig</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="927"/>
        <source>No escalation selected</source>
        <translation>Keine Eskalation ausgewählt</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="933"/>
        <source>Conversation %1</source>
        <translation>Gespräch %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="939"/>
        <source>Due %1</source>
        <translation>Fällig: %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="942"/>
        <source>Taken by %1</source>
        <translation>Übernommen von %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="944"/>
        <source>Escalated by %1</source>
        <translation>Eskaliert von %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="946"/>
        <source>Escalated by the relay (red flag in the message)</source>
        <translation>Vom Relay eskaliert (Warnsignal in der Nachricht)</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="948"/>
        <source>Raised by the relay (the practice is closed that day)</source>
        <translation>Vom Relay gemeldet (die Praxis ist an diesem Tag geschlossen)</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="950"/>
        <source>Resolution: %1</source>
        <translation>Abschluss: %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="963"/>
        <source>Only a clinician takes escalations.</source>
        <translation>Eskalationen übernimmt nur der ärztliche Dienst.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1017"/>
        <source>Resolve escalation</source>
        <translation>Eskalation erledigen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1018"/>
        <source>What was done? (optional)</source>
        <translation>Was wurde getan? (optional)</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1044"/>
        <source>The patient allows WhatsApp calls: call from the phone system now.</source>
        <translation>Der Patient erlaubt WhatsApp-Anrufe: jetzt über die Telefonanlage anrufen.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1047"/>
        <source>The patient allows WhatsApp calls until %1: call from the phone system now.</source>
        <translation>Der Patient erlaubt WhatsApp-Anrufe bis %1: jetzt über die Telefonanlage anrufen.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1053"/>
        <source>A call request was sent on WhatsApp; the patient&apos;s answer shows in the calls list and the conversation. Call from the phone system when allowed.</source>
        <translation>Eine Anrufanfrage wurde per WhatsApp gesendet; die Antwort des Patienten erscheint in der Anrufliste und im Gespräch. Rufen Sie über die Telefonanlage an, sobald es erlaubt ist.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1060"/>
        <source>The 24-hour window is closed, so the video-visit link went out in the approved template.</source>
        <translation>Das 24-Stunden-Fenster ist geschlossen, daher wurde der Link zur Videosprechstunde mit der freigegebenen Vorlage gesendet.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1064"/>
        <source>The video-visit link was sent to the patient.</source>
        <translation>Der Link zur Videosprechstunde wurde an den Patienten gesendet.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1073"/>
        <source>Dialling %1 … log the outcome when the call ends.</source>
        <translation>%1 wird angerufen … Ergebnis nach dem Anruf erfassen.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1077"/>
        <source>No phone program is set up; dial %1 by hand.</source>
        <translation>Kein Telefonprogramm eingerichtet; bitte %1 von Hand wählen.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1156"/>
        <source>An escalation is overdue and not yet acknowledged</source>
        <translation>Eine Eskalation ist überfällig und noch nicht übernommen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1160"/>
        <source>%1 escalations are overdue and not yet acknowledged</source>
        <translation>%1 Eskalationen sind überfällig und noch nicht übernommen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1164"/>
        <source>Praxis Inbox</source>
        <translation>Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1210"/>
        <source>Escalate…</source>
        <translation>Eskalieren…</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="1215"/>
        <source>Hand this conversation to a clinician (Ctrl+Shift+E)</source>
        <translation>Gespräch an den ärztlichen Dienst übergeben (Strg+Umschalt+E)</translation>
    </message>
</context>
<context>
    <name>InboxController</name>
    <message>
        <location filename="../../ui/controller.py" line="141"/>
        <source>The message could not be queued. Please try again.</source>
        <translation>Die Nachricht konnte nicht in die Warteschlange gestellt werden. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="162"/>
        <source>That did not work. Please try again.</source>
        <translation>Das hat nicht geklappt. Bitte erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="200"/>
        <source>Unlocking needs a newer engine; restart the app to sign in again.</source>
        <translation>Zum Entsperren fehlt noch die Unterstützung; bitte die App neu starten und erneut anmelden.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="211"/>
        <source>That code did not work (wrong, or used already). Enter the current one.</source>
        <translation>Dieser Code hat nicht funktioniert (falsch oder schon benutzt). Geben Sie den aktuellen ein.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="214"/>
        <source>Enter the code from your authenticator app as well.</source>
        <translation>Geben Sie zusätzlich den Code aus Ihrer Authenticator-App ein.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="219"/>
        <location filename="../../ui/controller.py" line="222"/>
        <source>That password did not unlock the inbox.</source>
        <translation>Mit diesem Passwort ließ sich der Posteingang nicht entsperren.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="235"/>
        <source>Retrying is not available in this version.</source>
        <translation>Erneutes Senden ist in dieser Version nicht verfügbar.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="241"/>
        <source>The message could not be queued again. Please try later.</source>
        <translation>Die Nachricht konnte nicht erneut eingereiht werden. Bitte später versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="357"/>
        <source>Online</source>
        <translation>Online</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="358"/>
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="361"/>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <location filename="../../ui/controller.py" line="363"/>
        <source>Locked: sync paused</source>
        <translation>Gesperrt: Abgleich pausiert</translation>
    </message>
</context>
<context>
    <name>LinkPatientDialog</name>
    <message>
        <location filename="../../ui/booking_dialog.py" line="217"/>
        <source>Link patient</source>
        <translation>Patient verknüpfen</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="220"/>
        <source>Name, record number or date of birth</source>
        <translation>Name, Patientennummer oder Geburtsdatum</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="221"/>
        <source>Search patients</source>
        <translation>Patienten suchen</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="224"/>
        <source>Matching patients</source>
        <translation>Passende Patienten</translation>
    </message>
    <message>
        <location filename="../../ui/booking_dialog.py" line="230"/>
        <source>Link</source>
        <translation>Verknüpfen</translation>
    </message>
</context>
<context>
    <name>ListFilters</name>
    <message>
        <location filename="../../ui/list_filters.py" line="60"/>
        <source>Filter by team</source>
        <translation>Nach Team filtern</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="61"/>
        <source>Filter by assignee</source>
        <translation>Nach Zuständigkeit filtern</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="78"/>
        <location filename="../../ui/list_filters.py" line="117"/>
        <source>Team %1</source>
        <translation>Team %1</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="82"/>
        <source>All teams</source>
        <translation>Alle Teams</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="85"/>
        <source>No team</source>
        <translation>Kein Team</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="88"/>
        <source>Anyone</source>
        <translation>Alle</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="90"/>
        <source>Assigned to me</source>
        <translation>Mir zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="91"/>
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/list_filters.py" line="118"/>
        <source>Colleague %1</source>
        <translation>Kollegin/Kollege %1</translation>
    </message>
</context>
<context>
    <name>LockPage</name>
    <message>
        <location filename="../../ui/pages.py" line="218"/>
        <source>Praxis Inbox is locked</source>
        <translation>Praxis Inbox ist gesperrt</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="219"/>
        <source>Patient data is hidden. Enter your password to continue.</source>
        <translation>Patientendaten sind verborgen. Geben Sie Ihr Passwort ein, um fortzufahren.</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="220"/>
        <location filename="../../ui/pages.py" line="221"/>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="222"/>
        <source>Code from your authenticator app</source>
        <translation>Code aus Ihrer Authenticator-App</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="223"/>
        <source>Authenticator code</source>
        <translation>Authenticator-Code</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="224"/>
        <location filename="../../ui/pages.py" line="225"/>
        <source>Unlock</source>
        <translation>Entsperren</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="226"/>
        <source>Unlock problem</source>
        <translation>Problem beim Entsperren</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="227"/>
        <source>Locked</source>
        <translation>Gesperrt</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../ui/login.py" line="42"/>
        <source>Sign in — Praxis Inbox</source>
        <translation>Anmelden — Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="46"/>
        <source>Sign in to your practice inbox</source>
        <translation>Bei Ihrem Praxis-Posteingang anmelden</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="49"/>
        <source>Username</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="52"/>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="54"/>
        <source>Relay address</source>
        <translation>Relay-Adresse</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="59"/>
        <source>Sign-in problem</source>
        <translation>Anmeldeproblem</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="64"/>
        <source>Code from your authenticator app</source>
        <translation>Code aus Ihrer Authenticator-App</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="70"/>
        <source>&amp;Username</source>
        <translation>&amp;Benutzername</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="71"/>
        <source>&amp;Password</source>
        <translation>&amp;Passwort</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="72"/>
        <source>&amp;Relay</source>
        <translation>&amp;Relay</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="73"/>
        <source>&amp;Code</source>
        <translation>&amp;Code</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="82"/>
        <location filename="../../ui/login.py" line="83"/>
        <source>Sign in</source>
        <translation>Anmelden</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="84"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="99"/>
        <source>Please enter your username and the relay address.</source>
        <translation>Bitte Benutzername und Relay-Adresse eingeben.</translation>
    </message>
    <message>
        <location filename="../../ui/login.py" line="102"/>
        <source>Please enter the code from your authenticator app.</source>
        <translation>Bitte den Code aus Ihrer Authenticator-App eingeben.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/main_window.py" line="1036"/>
        <source>Offline since %1</source>
        <translation>Offline seit %1</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="633"/>
        <source>Next unread conversation</source>
        <translation>Nächstes ungelesenes Gespräch</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="634"/>
        <location filename="../../ui/main_window.py" line="673"/>
        <source>Search messages</source>
        <translation>Nachrichten durchsuchen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="635"/>
        <location filename="../../ui/main_window.py" line="687"/>
        <source>Quick replies</source>
        <translation>Schnellantworten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="636"/>
        <source>Write a message</source>
        <translation>Nachricht schreiben</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="641"/>
        <location filename="../../ui/main_window.py" line="662"/>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="642"/>
        <source>Lock the inbox</source>
        <translation>Posteingang sperren</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="643"/>
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="648"/>
        <source>%1 (coming soon)</source>
        <translation>%1 (folgt)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="292"/>
        <location filename="../../ui/main_window.py" line="653"/>
        <location filename="../../ui/main_window.py" line="1046"/>
        <location filename="../../ui/main_window.py" line="1349"/>
        <location filename="../../ui/main_window.py" line="1365"/>
        <source>Praxis Inbox</source>
        <translation>Praxis Inbox</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="654"/>
        <source>Send result…</source>
        <translation>Befund senden…</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="655"/>
        <source>Views</source>
        <translation>Ansichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="656"/>
        <source>SAVED VIEWS</source>
        <translation>GESPEICHERTE ANSICHTEN</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="657"/>
        <source>Saved views</source>
        <translation>Gespeicherte Ansichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="658"/>
        <source>Delete removes the selected saved view</source>
        <translation>Entf entfernt die gewählte gespeicherte Ansicht</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="660"/>
        <source>Save view…</source>
        <translation>Ansicht speichern…</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="660"/>
        <source>Keep this view and label filter</source>
        <translation>Diese Ansicht samt Label-Filter behalten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="661"/>
        <source>Shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="661"/>
        <source>Keyboard shortcuts (F1)</source>
        <translation>Tastenkürzel (F1)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="662"/>
        <source>Language and theme (Ctrl+,)</source>
        <translation>Sprache und Design (Strg+,)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="663"/>
        <source>Lock</source>
        <translation>Sperren</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="663"/>
        <source>Lock the inbox (Ctrl+Shift+L)</source>
        <translation>Posteingang sperren (Strg+Umschalt+L)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="668"/>
        <source>Locking needs an engine that can lock its cache (coming soon).</source>
        <translation>Sperren setzt voraus, dass die Anwendung ihren Speicher sperren kann (folgt).</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="671"/>
        <source>Conversations</source>
        <translation>Unterhaltungen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="672"/>
        <source>Search messages (Ctrl+F)</source>
        <translation>Nachrichten suchen (Strg+F)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="674"/>
        <source>Filter by label</source>
        <translation>Nach Label filtern</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="676"/>
        <source>Search results</source>
        <translation>Suchergebnisse</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="677"/>
        <source>Search summary</source>
        <translation>Suchzusammenfassung</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="678"/>
        <source>Select a conversation to read and reply.</source>
        <translation>Wählen Sie eine Unterhaltung, um zu lesen und zu antworten.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="679"/>
        <source>Patient name</source>
        <translation>Name des Patienten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="680"/>
        <source>Phone number</source>
        <translation>Telefonnummer</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="681"/>
        <source>24-hour window</source>
        <translation>24-Stunden-Fenster</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="682"/>
        <source>Jump to latest</source>
        <translation>Zur neuesten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="683"/>
        <source>Jump to the newest message</source>
        <translation>Zur neuesten Nachricht springen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="684"/>
        <source>Messages</source>
        <translation>Nachrichten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="685"/>
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="686"/>
        <source>Composer note</source>
        <translation>Hinweis zum Eingabefeld</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="688"/>
        <source>Quick replies (/ or Ctrl+/)</source>
        <translation>Schnellantworten (/ oder Strg+/)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="826"/>
        <source>All labels</source>
        <translation>Alle Labels</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="924"/>
        <source>Result sent.</source>
        <translation>Befund gesendet.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="994"/>
        <source>Write a message — Enter sends, Shift+Enter adds a line, / for quick replies</source>
        <translation>Nachricht schreiben – Enter sendet, Umschalt+Enter neue Zeile, / für Schnellantworten</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="996"/>
        <source>Template mode: free text is disabled outside the 24-hour window.</source>
        <translation>Vorlagenmodus: Außerhalb des 24-Stunden-Fensters ist freier Text gesperrt.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1000"/>
        <source>The 24-hour window is closed: WhatsApp only delivers approved templates now. The one that fits is chosen below; check its values, then send.</source>
        <translation>Das 24-Stunden-Fenster ist geschlossen: WhatsApp stellt jetzt nur freigegebene Vorlagen zu. Die passende ist unten gewählt; bitte Angaben prüfen, dann senden.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1227"/>
        <source>The relay is reachable again and asks for your second factor: enter your password and the code from your authenticator app.</source>
        <translation>Das Relay ist wieder erreichbar und verlangt Ihren zweiten Faktor: Geben Sie Ihr Passwort und den Code aus Ihrer Authenticator-App ein.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1366"/>
        <source>A colleague mentioned you in an internal note</source>
        <translation>Sie wurden in einer internen Notiz erwähnt</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1082"/>
        <source>a colleague</source>
        <translation>Kollegin/Kollege</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="418"/>
        <location filename="../../ui/main_window.py" line="1060"/>
        <location filename="../../ui/main_window.py" line="1276"/>
        <source>Fill in %1 before sending.</source>
        <translation>Bitte %1 vor dem Senden ausfüllen.</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1089"/>
        <source>Take over this conversation?</source>
        <translation>Gespräch übernehmen?</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1091"/>
        <source>%1 is handling this conversation. Reply anyway and take it over?</source>
        <translation>%1 bearbeitet dieses Gespräch. Trotzdem antworten und es übernehmen?</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1160"/>
        <source>Save view</source>
        <translation>Ansicht speichern</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1161"/>
        <source>Name for this view:</source>
        <translation>Name für diese Ansicht:</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1241"/>
        <source>This session has ended. Close the window and sign in again.</source>
        <translation>Diese Sitzung ist beendet. Schließen Sie das Fenster und melden Sie sich erneut an.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/main_window.py" line="1306"/>
        <source>%n messages found</source>
        <translation>
            <numerusform>%n Nachricht gefunden</numerusform>
            <numerusform>%n Nachrichten gefunden</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="1350"/>
        <source>New message in %1</source>
        <translation>Neue Nachricht in %1</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="392"/>
        <location filename="../../ui/main_window.py" line="689"/>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="637"/>
        <source>Claim conversation</source>
        <translation>Gespräch übernehmen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="638"/>
        <source>Resolve conversation</source>
        <translation>Gespräch erledigen</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="639"/>
        <source>Escalate conversation</source>
        <translation>Gespräch eskalieren</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="640"/>
        <source>Internal note</source>
        <translation>Interne Notiz</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="690"/>
        <location filename="../../ui/main_window.py" line="777"/>
        <source>Send message</source>
        <translation>Nachricht senden</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="692"/>
        <source>Connection</source>
        <translation>Verbindung</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="693"/>
        <location filename="../../ui/main_window.py" line="700"/>
        <source>Signed-in user</source>
        <translation>Angemeldet</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="696"/>
        <source>Signed in as %1 (%2)</source>
        <translation>Angemeldet als %1 (%2)</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="777"/>
        <source>Enter</source>
        <translation>Enter</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="778"/>
        <source>New line</source>
        <translation>Neue Zeile</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="778"/>
        <source>Shift+Enter</source>
        <translation>Umschalt+Enter</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="779"/>
        <source>Quick replies in the composer</source>
        <translation>Schnellantworten im Eingabefeld</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/main_window.py" line="970"/>
        <source>Window open: %n h left</source>
        <translation>
            <numerusform>Fenster offen: noch %n h</numerusform>
            <numerusform>Fenster offen: noch %n h</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="972"/>
        <source>24-hour window closed</source>
        <translation>24-h-Fenster geschlossen</translation>
    </message>
</context>
<context>
    <name>MessageDelegate</name>
    <message>
        <location filename="../../ui/delegates.py" line="458"/>
        <source>[%1 message]</source>
        <translation>[%1-Nachricht]</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="463"/>
        <source>Photo</source>
        <translation>Foto</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="464"/>
        <source>Sticker</source>
        <translation>Sticker</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="465"/>
        <source>Video</source>
        <translation>Video</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="466"/>
        <location filename="../../ui/delegates.py" line="467"/>
        <source>Voice message</source>
        <translation>Sprachnachricht</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="470"/>
        <source>Document</source>
        <translation>Dokument</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="502"/>
        <source>reason unknown</source>
        <translation>Grund unbekannt</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="503"/>
        <source>Not delivered: %1</source>
        <translation>Nicht zugestellt: %1</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="506"/>
        <source>Retry</source>
        <translation>Erneut senden</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="518"/>
        <source>Result queued</source>
        <translation>Befund in Warteschlange</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="519"/>
        <source>Result sending</source>
        <translation>Befund wird gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="520"/>
        <source>Result sent</source>
        <translation>Befund gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="521"/>
        <source>Result delivered</source>
        <translation>Befund zugestellt</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="522"/>
        <source>Result notice read</source>
        <translation>Befundhinweis gelesen</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="523"/>
        <source>Result opened on the page</source>
        <translation>Befund auf der Seite geöffnet</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="524"/>
        <source>Result downloaded</source>
        <translation>Befund heruntergeladen</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="525"/>
        <source>Result not delivered</source>
        <translation>Befund nicht zugestellt</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="526"/>
        <source>Result: check before resending</source>
        <translation>Befund: vor erneutem Senden prüfen</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="532"/>
        <source>after %1 s</source>
        <translation>nach %1 s</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="534"/>
        <source>after %1 min</source>
        <translation>nach %1 Min.</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="536"/>
        <source>after %1 h</source>
        <translation>nach %1 Std.</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="545"/>
        <source>Cancelled, not sent</source>
        <translation>Abgebrochen, nicht gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="548"/>
        <source>today</source>
        <translation>heute</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="552"/>
        <source>Scheduled for %1 %2</source>
        <translation>Geplant für %1 %2</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="556"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="587"/>
        <location filename="../../ui/delegates.py" line="783"/>
        <source>Internal note</source>
        <translation>Interne Notiz</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="693"/>
        <source>Today</source>
        <translation>Heute</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="695"/>
        <source>Yesterday</source>
        <translation>Gestern</translation>
    </message>
    <message>
        <location filename="../../ui/delegates.py" line="738"/>
        <source>Earlier message (not loaded)</source>
        <translation>Frühere Nachricht (nicht geladen)</translation>
    </message>
</context>
<context>
    <name>PatientPanel</name>
    <message>
        <location filename="../../ui/patient_panel.py" line="442"/>
        <location filename="../../ui/patient_panel.py" line="443"/>
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="445"/>
        <source>NAME</source>
        <translation>NAME</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="446"/>
        <source>DATE OF BIRTH</source>
        <translation>GEBURTSDATUM</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="447"/>
        <source>RECORD NUMBER</source>
        <translation>PATIENTENNUMMER</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="448"/>
        <source>PHONE</source>
        <translation>TELEFON</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="449"/>
        <source>24-HOUR WINDOW</source>
        <translation>24-STUNDEN-FENSTER</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="450"/>
        <source>STATUS</source>
        <translation>STATUS</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="451"/>
        <source>LABELS</source>
        <translation>LABELS</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="452"/>
        <source>RECENT NOTES</source>
        <translation>LETZTE NOTIZEN</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="453"/>
        <source>APPOINTMENTS</source>
        <translation>TERMINE</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="454"/>
        <source>CONSENT</source>
        <translation>EINWILLIGUNGEN</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="459"/>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="460"/>
        <source>Date of birth</source>
        <translation>Geburtsdatum</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="461"/>
        <source>Record number</source>
        <translation>Patientennummer</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="462"/>
        <source>Phone</source>
        <translation>Telefon</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="463"/>
        <source>24-hour window</source>
        <translation>24-Stunden-Fenster</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="464"/>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="465"/>
        <source>Labels</source>
        <translation>Labels</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="466"/>
        <source>Recent notes</source>
        <translation>Letzte Notizen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="467"/>
        <source>Appointments</source>
        <translation>Termine</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="468"/>
        <source>Consent</source>
        <translation>Einwilligung</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="473"/>
        <source>Patients sharing this number</source>
        <translation>Patienten mit dieser Nummer</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="474"/>
        <source>Link patient…</source>
        <translation>Patient verknüpfen…</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="475"/>
        <source>Link an existing patient to this number</source>
        <translation>Vorhandenen Patienten mit dieser Nummer verknüpfen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="476"/>
        <source>Create patient…</source>
        <translation>Patient anlegen…</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="477"/>
        <source>Create a patient for this number</source>
        <translation>Neuen Patienten für diese Nummer anlegen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="478"/>
        <source>Upcoming appointments</source>
        <translation>Kommende Termine</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="479"/>
        <source>Book…</source>
        <translation>Buchen…</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="480"/>
        <source>Book an appointment</source>
        <translation>Termin buchen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="481"/>
        <source>Move…</source>
        <translation>Verlegen…</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="482"/>
        <source>Move the selected appointment</source>
        <translation>Gewählten Termin verlegen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="483"/>
        <source>Cancel</source>
        <translation>Absagen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="484"/>
        <source>Cancel the selected appointment</source>
        <translation>Gewählten Termin absagen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="487"/>
        <source>Consent: %1</source>
        <translation>Einwilligung: %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/patient_panel.py" line="524"/>
        <source>open, %n h left</source>
        <translation>
            <numerusform>offen, noch %n Std.</numerusform>
            <numerusform>offen, noch %n Std.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="526"/>
        <source>closed — templates only</source>
        <translation>geschlossen – nur Vorlagen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="530"/>
        <source>unassigned</source>
        <translation>nicht zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="532"/>
        <source>you</source>
        <translation>Sie</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="534"/>
        <source>a colleague</source>
        <translation>Kollegin/Kollege</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="536"/>
        <source>escalated</source>
        <translation>eskaliert</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="538"/>
        <location filename="../../ui/patient_panel.py" line="565"/>
        <location filename="../../ui/patient_panel.py" line="662"/>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/patient_panel.py" line="608"/>
        <source>%n patient(s) share this number</source>
        <translation>
            <numerusform>%n Patient hat diese Nummer</numerusform>
            <numerusform>%n Patienten teilen sich diese Nummer</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="624"/>
        <source>granted</source>
        <translation>erteilt</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="624"/>
        <source>withdrawn</source>
        <translation>widerrufen</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="628"/>
        <source>not recorded</source>
        <translation>nicht erfasst</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="636"/>
        <source>no consent recorded</source>
        <translation>keine Einwilligung erfasst</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="650"/>
        <source>No patient is registered under this number.</source>
        <translation>Unter dieser Nummer ist kein Patient registriert.</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="656"/>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/patient_panel.py" line="660"/>
        <source>%1 (%n years)</source>
        <translation>
            <numerusform>%1 (%n Jahr)</numerusform>
            <numerusform>%1 (%n Jahre)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/patient_panel.py" line="677"/>
        <source>%n upcoming</source>
        <translation>
            <numerusform>%n kommender Termin</numerusform>
            <numerusform>%n kommende Termine</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="677"/>
        <source>none upcoming</source>
        <translation>keine anstehenden</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="718"/>
        <source>Withdraw consent?</source>
        <translation>Einwilligung widerrufen?</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="720"/>
        <source>Record that the patient withdrew consent for “%1”? Queued automated messages for it are cancelled.</source>
        <translation>Erfassen, dass der Patient die Einwilligung für „%1“ widerrufen hat? Geplante automatische Nachrichten dafür werden abgebrochen.</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="732"/>
        <source>Cancel this appointment?</source>
        <translation>Diesen Termin absagen?</translation>
    </message>
    <message>
        <location filename="../../ui/patient_panel.py" line="733"/>
        <source>Cancel the appointment on %1? The time becomes free for others.</source>
        <translation>Den Termin am %1 absagen? Die Zeit wird für andere frei.</translation>
    </message>
</context>
<context>
    <name>QuickReplyPalette</name>
    <message>
        <location filename="../../ui/quick_replies.py" line="240"/>
        <location filename="../../ui/quick_replies.py" line="255"/>
        <source>Quick replies</source>
        <translation>Schnellantworten</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="250"/>
        <source>Search quick replies</source>
        <translation>Schnellantworten durchsuchen</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="251"/>
        <source>Search quick replies…</source>
        <translation>Schnellantworten suchen…</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="260"/>
        <source>Preview</source>
        <translation>Vorschau</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="266"/>
        <source>Missing values</source>
        <translation>Fehlende Angaben</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="305"/>
        <source>No quick reply matches.</source>
        <translation>Keine Schnellantwort passt.</translation>
    </message>
    <message>
        <location filename="../../ui/quick_replies.py" line="311"/>
        <source>Missing: %1 — fill it in before sending.</source>
        <translation>Fehlt: %1 – bitte vor dem Senden ausfüllen.</translation>
    </message>
</context>
<context>
    <name>ReassignDialog</name>
    <message>
        <location filename="../../ui/escalations.py" line="680"/>
        <source>Reassign escalation</source>
        <translation>Eskalation neu zuweisen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="682"/>
        <source>Hand this escalation to:</source>
        <translation>Eskalation übergeben an:</translation>
    </message>
</context>
<context>
    <name>ReportTableModel</name>
    <message numerus="yes">
        <location filename="../../ui/reports.py" line="194"/>
        <source>%n case(s)</source>
        <translation>
            <numerusform>%n Fall</numerusform>
            <numerusform>%n Fälle</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ReportsPage</name>
    <message numerus="yes">
        <location filename="../../ui/reports.py" line="419"/>
        <source>%n period(s)</source>
        <translation>
            <numerusform>%n Zeitraum</numerusform>
            <numerusform>%n Zeiträume</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ResultDialog</name>
    <message>
        <location filename="../../ui/result_dialog.py" line="58"/>
        <source>Only PDF, JPEG or PNG files can be sent as results.</source>
        <translation>Als Befund lassen sich nur PDF-, JPEG- oder PNG-Dateien senden.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="61"/>
        <source>The file is larger than WhatsApp allows.</source>
        <translation>Die Datei ist größer, als WhatsApp erlaubt.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="64"/>
        <source>The PDF cannot be opened.</source>
        <translation>Das PDF lässt sich nicht öffnen.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="65"/>
        <source>The PDF is password-protected; export it without a password.</source>
        <translation>Das PDF ist passwortgeschützt; bitte ohne Passwort exportieren.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="68"/>
        <source>The PDF contains scripts, actions or embedded files and cannot be sent.</source>
        <translation>Das PDF enthält Skripte, Aktionen oder eingebettete Dateien und kann nicht gesendet werden.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="72"/>
        <source>A result must have 1 to 50 pages.</source>
        <translation>Ein Befund muss 1 bis 50 Seiten haben.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="79"/>
        <source>The patient&apos;s name does not appear in the document.</source>
        <translation>Der Name des Patienten steht nicht im Dokument.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="82"/>
        <source>The date of birth in the document differs.</source>
        <translation>Das Geburtsdatum im Dokument weicht ab.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="85"/>
        <source>The patient&apos;s date of birth does not appear in the document.</source>
        <translation>Das Geburtsdatum des Patienten steht nicht im Dokument.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="88"/>
        <source>The record number in the document differs.</source>
        <translation>Die Patientennummer im Dokument weicht ab.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="91"/>
        <source>No readable text in the file: compare it by eye.</source>
        <translation>Kein lesbarer Text in der Datei: bitte selbst vergleichen.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="125"/>
        <source>Send result</source>
        <translation>Befund senden</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="146"/>
        <source>Result for</source>
        <translation>Befund für</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="150"/>
        <source>Consent</source>
        <translation>Einwilligung</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="153"/>
        <location filename="../../ui/result_dialog.py" line="337"/>
        <source>Drop a PDF, JPEG or PNG here</source>
        <translation>PDF, JPEG oder PNG hier ablegen</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="160"/>
        <source>Choose file…</source>
        <translation>Datei wählen…</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="184"/>
        <source>The document does not match. Reason for sending it anyway (audited):</source>
        <translation>Das Dokument passt nicht. Grund, es trotzdem zu senden (wird protokolliert):</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="201"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="203"/>
        <location filename="../../ui/result_dialog.py" line="417"/>
        <location filename="../../ui/result_dialog.py" line="479"/>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="236"/>
        <source>The patient record could not be loaded.</source>
        <translation>Die Patientendaten konnten nicht geladen werden.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="252"/>
        <location filename="../../ui/result_dialog.py" line="378"/>
        <source>No patient is linked to this conversation.</source>
        <translation>Mit diesem Gespräch ist kein Patient verknüpft.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="256"/>
        <source>Name matches: %1</source>
        <translation>Name stimmt: %1</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="261"/>
        <source>Date of birth matches: %1</source>
        <translation>Geburtsdatum stimmt: %1</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="267"/>
        <source>Results by WhatsApp: on file</source>
        <translation>Befunde per WhatsApp: Einwilligung liegt vor</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="270"/>
        <source>Results by WhatsApp: not on file — record the consent before sending.</source>
        <translation>Befunde per WhatsApp: keine Einwilligung – bitte vor dem Senden erfassen.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="277"/>
        <source>Choose result</source>
        <translation>Befund wählen</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="277"/>
        <source>Results (*.pdf *.jpg *.jpeg *.png)</source>
        <translation>Befunde (*.pdf *.jpg *.jpeg *.png)</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="307"/>
        <source>The file cannot be read.</source>
        <translation>Die Datei kann nicht gelesen werden.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../ui/result_dialog.py" line="317"/>
        <source>%n page(s)</source>
        <translation>
            <numerusform>%n Seite</numerusform>
            <numerusform>%n Seiten</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="358"/>
        <source>✔ Name and date of birth in the document match this patient.</source>
        <translation>✔ Name und Geburtsdatum im Dokument passen zu diesem Patienten.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="363"/>
        <source>✖ Wrong patient? Sending is blocked:</source>
        <translation>✖ Falscher Patient? Senden ist gesperrt:</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="365"/>
        <source>Check by eye:</source>
        <translation>Bitte selbst prüfen:</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="380"/>
        <source>Attach the result.</source>
        <translation>Bitte den Befund anhängen.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="382"/>
        <source>The patient&apos;s consent for results by WhatsApp is missing.</source>
        <translation>Die Einwilligung des Patienten für Befunde per WhatsApp fehlt.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="384"/>
        <source>Confirm the patient&apos;s name and date of birth.</source>
        <translation>Bitte Name und Geburtsdatum des Patienten bestätigen.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="386"/>
        <source>Give a reason for sending a document that does not match.</source>
        <translation>Bitte begründen, warum ein nicht passendes Dokument gesendet wird.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="418"/>
        <source>Not sent.</source>
        <translation>Nicht gesendet.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="428"/>
        <source>Sending…</source>
        <translation>Wird gesendet…</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="432"/>
        <source>Undo (%1)</source>
        <translation>Rückgängig (%1)</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="433"/>
        <source>Sending in %1 s…</source>
        <translation>Senden in %1 s…</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="470"/>
        <source>The result could not be sent.</source>
        <translation>Der Befund konnte nicht gesendet werden.</translation>
    </message>
    <message>
        <location filename="../../ui/result_dialog.py" line="473"/>
        <source>Sent.</source>
        <translation>Gesendet.</translation>
    </message>
</context>
<context>
    <name>ScheduleDialog</name>
    <message>
        <location filename="../../ui/composer.py" line="200"/>
        <source>Send later</source>
        <translation>Später senden</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="207"/>
        <source>Send at</source>
        <translation>Senden um</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="218"/>
        <source>WhatsApp accepts free text until %1, when the 24-hour window closes.</source>
        <translation>WhatsApp nimmt freien Text bis %1 an; dann schließt das 24-Stunden-Fenster.</translation>
    </message>
    <message>
        <location filename="../../ui/composer.py" line="227"/>
        <source>Schedule</source>
        <translation>Planen</translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../../ui/pages.py" line="117"/>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="119"/>
        <source>Changes apply at once and are kept for the next start on this computer.</source>
        <translation>Änderungen gelten sofort und bleiben auf diesem Computer für den nächsten Start erhalten.</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="121"/>
        <source>&amp;Language</source>
        <translation>&amp;Sprache</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="122"/>
        <source>&amp;Theme</source>
        <translation>&amp;Design</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="123"/>
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="124"/>
        <source>Theme</source>
        <translation>Design</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="125"/>
        <location filename="../../ui/pages.py" line="126"/>
        <source>Back to the inbox</source>
        <translation>Zurück zum Posteingang</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="128"/>
        <source>Follow the system</source>
        <translation>Wie das System</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="131"/>
        <source>Pseudo (finds clipped text)</source>
        <translation>Pseudo (findet abgeschnittenen Text)</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="138"/>
        <source>Light</source>
        <translation>Hell</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="139"/>
        <source>Dark</source>
        <translation>Dunkel</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../../ui/pages.py" line="274"/>
        <location filename="../../ui/pages.py" line="275"/>
        <location filename="../../ui/pages.py" line="280"/>
        <source>Keyboard shortcuts</source>
        <translation>Tastenkürzel</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="294"/>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="301"/>
        <source>Action</source>
        <translation>Aktion</translation>
    </message>
    <message>
        <location filename="../../ui/pages.py" line="301"/>
        <source>Shortcut</source>
        <translation>Kürzel</translation>
    </message>
</context>
<context>
    <name>TargetPicker</name>
    <message>
        <location filename="../../ui/escalations.py" line="563"/>
        <source>All clinicians</source>
        <translation>Gesamter ärztlicher Dienst</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="565"/>
        <source>Team %1</source>
        <translation>Team %1</translation>
    </message>
</context>
<context>
    <name>TemplatePanel</name>
    <message>
        <location filename="../../ui/templates.py" line="310"/>
        <source>Approved template</source>
        <translation>Freigegebene Vorlage</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="311"/>
        <source>Approved templates WhatsApp delivers outside the window</source>
        <translation>Freigegebene Vorlagen, die WhatsApp außerhalb des Fensters zustellt</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="312"/>
        <source>Template preview</source>
        <translation>Vorlagenvorschau</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="313"/>
        <source>Missing template values</source>
        <translation>Fehlende Vorlagenangaben</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="348"/>
        <source>Title {{%1}}</source>
        <translation>Titel {{%1}}</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="352"/>
        <source>Button %1 link {{%2}}</source>
        <translation>Schaltfläche %1, Link {{%2}}</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="379"/>
        <source>No approved template is available yet.</source>
        <translation>Noch keine freigegebene Vorlage verfügbar.</translation>
    </message>
    <message>
        <location filename="../../ui/templates.py" line="386"/>
        <source>Missing: %1 — fill it in before sending.</source>
        <translation>Fehlt: %1 – bitte vor dem Senden ausfüllen.</translation>
    </message>
</context>
<context>
    <name>ThreadModel</name>
    <message>
        <location filename="../../ui/models.py" line="383"/>
        <source>Not delivered</source>
        <translation>Nicht zugestellt</translation>
    </message>
    <message>
        <location filename="../../ui/models.py" line="386"/>
        <source>Patient</source>
        <translation>Patient</translation>
    </message>
    <message>
        <location filename="../../ui/models.py" line="388"/>
        <source>Practice</source>
        <translation>Praxis</translation>
    </message>
</context>
<context>
    <name>ThreadView</name>
    <message>
        <location filename="../../ui/thread_view.py" line="141"/>
        <source>No messages in this conversation yet.</source>
        <translation>Noch keine Nachrichten in dieser Unterhaltung.</translation>
    </message>
</context>
<context>
    <name>app</name>
    <message>
        <location filename="../../ui/app.py" line="412"/>
        <source>Signing in failed: %1</source>
        <translation>Anmeldung fehlgeschlagen: %1</translation>
    </message>
    <message>
        <location filename="../../ui/app.py" line="413"/>
        <source>Signing in failed. Check the relay address and your connection, then try again.</source>
        <translation>Anmeldung fehlgeschlagen. Bitte Relay-Adresse und Verbindung prüfen und erneut versuchen.</translation>
    </message>
    <message>
        <location filename="../../ui/app.py" line="420"/>
        <source>That code did not work (wrong, or used already). Enter the current one.</source>
        <translation>Dieser Code hat nicht funktioniert (falsch oder schon benutzt). Bitte den aktuellen eingeben.</translation>
    </message>
    <message>
        <location filename="../../ui/app.py" line="423"/>
        <source>Your account has a second factor: enter the code from your authenticator app.</source>
        <translation>Ihr Konto hat einen zweiten Faktor: Bitte den Code aus Ihrer Authenticator-App eingeben.</translation>
    </message>
</context>
<context>
    <name>audit</name>
    <message>
        <location filename="../../ui/audit_view.py" line="640"/>
        <source>Audit trail</source>
        <translation>Audit-Protokoll</translation>
    </message>
</context>
<context>
    <name>delegates</name>
    <message>
        <location filename="../../ui/delegates.py" line="83"/>
        <source>%1 h</source>
        <translation>%1 Std.</translation>
    </message>
</context>
<context>
    <name>escalations</name>
    <message>
        <location filename="../../ui/escalations.py" line="90"/>
        <source>Emergency</source>
        <translation>Notfall</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="91"/>
        <source>Urgent</source>
        <translation>Dringend</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="92"/>
        <source>Routine</source>
        <translation>Routine</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="98"/>
        <source>Open</source>
        <translation>Offen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="99"/>
        <location filename="../../ui/escalations.py" line="157"/>
        <source>Acknowledged</source>
        <translation>Übernommen</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="100"/>
        <location filename="../../ui/escalations.py" line="155"/>
        <source>Resolved</source>
        <translation>Erledigt</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="106"/>
        <source>to %1</source>
        <translation>an %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="108"/>
        <source>team %1</source>
        <translation>Team %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="109"/>
        <source>all clinicians</source>
        <translation>ärztlicher Dienst</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="116"/>
        <source>Red-flag words in the patient&apos;s message: %1</source>
        <translation>Warnwörter in der Nachricht des Patienten: %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="120"/>
        <source>Appointment on a day the practice is closed: %1. No reminder goes out until it is moved or this is resolved.</source>
        <translation>Termin an einem Schließtag der Praxis: %1. Keine Erinnerung geht hinaus, bis er verlegt oder dies erledigt ist.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="145"/>
        <source>%1 h %2 min</source>
        <translation>%1 Std. %2 Min.</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="159"/>
        <source>Overdue %1</source>
        <translation>Überfällig %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="162"/>
        <source>Due in %1</source>
        <translation>Fällig in %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="317"/>
        <source>Conversation %1</source>
        <translation>Gespräch %1</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="341"/>
        <source>red flag</source>
        <translation>Warnsignal</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="343"/>
        <source>closed day</source>
        <translation>Schließtag</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="700"/>
        <source>WhatsApp</source>
        <translation>WhatsApp</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="702"/>
        <source>Call permission requested</source>
        <translation>Anruferlaubnis angefragt</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="704"/>
        <source>Patient allows calls already</source>
        <translation>Patient erlaubt Anrufe bereits</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="707"/>
        <source>Patient allowed calls</source>
        <translation>Patient erlaubt Anrufe</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="709"/>
        <source>Patient declined calls</source>
        <translation>Patient lehnt Anrufe ab</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="712"/>
        <source>Dialled by phone</source>
        <translation>Per Telefon gewählt</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="714"/>
        <source>Video-visit link sent</source>
        <translation>Link zur Videosprechstunde gesendet</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="720"/>
        <source>Reached</source>
        <translation>Erreicht</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="721"/>
        <source>Not reached</source>
        <translation>Nicht erreicht</translation>
    </message>
    <message>
        <location filename="../../ui/escalations.py" line="722"/>
        <source>Callback scheduled</source>
        <translation>Rückruf vereinbart</translation>
    </message>
</context>
<context>
    <name>reports</name>
    <message>
        <location filename="../../ui/reports.py" line="59"/>
        <source>First response (median)</source>
        <translation>Erste Antwort (Median)</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="60"/>
        <source>Resolution time (median)</source>
        <translation>Zeit bis erledigt (Median)</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="61"/>
        <source>Reminders confirmed</source>
        <translation>Erinnerungen bestätigt</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="62"/>
        <source>No-shows with reminder</source>
        <translation>Nicht erschienen, mit Erinnerung</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="63"/>
        <source>No-shows without reminder</source>
        <translation>Nicht erschienen, ohne Erinnerung</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="66"/>
        <source>Bookings by chat</source>
        <translation>Buchungen per Chat</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="67"/>
        <source>Result sent → opened (median)</source>
        <translation>Befund gesendet → geöffnet (Median)</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="68"/>
        <source>Escalation acknowledged (median)</source>
        <translation>Eskalation übernommen (Median)</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="69"/>
        <source>Patient satisfaction</source>
        <translation>Patientenzufriedenheit</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="76"/>
        <source>Reception</source>
        <translation>Empfang</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="77"/>
        <source>Nurses</source>
        <translation>Pflege</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="78"/>
        <source>Clinicians</source>
        <translation>Ärztlicher Dienst</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="79"/>
        <source>Administrators</source>
        <translation>Administration</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="116"/>
        <source>Week %1 · %2–%3</source>
        <translation>KW %1 · %2–%3</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="130"/>
        <source>Week %1</source>
        <translation>KW %1</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="205"/>
        <source>Period</source>
        <translation>Zeitraum</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="220"/>
        <source>Chart</source>
        <translation>Diagramm</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="351"/>
        <source>← Inbox</source>
        <translation>← Posteingang</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="352"/>
        <location filename="../../ui/reports.py" line="370"/>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="353"/>
        <source>Export CSV…</source>
        <translation>CSV exportieren…</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="354"/>
        <source>Chart:</source>
        <translation>Diagramm:</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="356"/>
        <source>Last 7 days</source>
        <translation>Letzte 7 Tage</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="357"/>
        <source>Last 30 days</source>
        <translation>Letzte 30 Tage</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="358"/>
        <source>Last 12 weeks</source>
        <translation>Letzte 12 Wochen</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="363"/>
        <source>By day</source>
        <translation>Pro Tag</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="363"/>
        <source>By week</source>
        <translation>Pro Woche</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="366"/>
        <source>Time range</source>
        <translation>Zeitraum</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="367"/>
        <source>Grouping</source>
        <translation>Gruppierung</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="368"/>
        <source>Figure shown in the chart</source>
        <translation>Kennzahl im Diagramm</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="369"/>
        <source>Figures by period</source>
        <translation>Kennzahlen nach Zeitraum</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="371"/>
        <source>Export CSV</source>
        <translation>CSV exportieren</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="398"/>
        <source>Loading…</source>
        <translation>Wird geladen…</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="408"/>
        <source>Reports need a connection to the relay and the right role.</source>
        <translation>Berichte brauchen eine Verbindung zum Relay und die passende Rolle.</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="477"/>
        <source>By role</source>
        <translation>Nach Rolle</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="484"/>
        <source>Export report</source>
        <translation>Bericht exportieren</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="486"/>
        <source>CSV files (*.csv)</source>
        <translation>CSV-Dateien (*.csv)</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="497"/>
        <source>Exported %1</source>
        <translation>Exportiert: %1</translation>
    </message>
    <message>
        <location filename="../../ui/reports.py" line="350"/>
        <location filename="../../ui/reports.py" line="556"/>
        <source>Reports</source>
        <translation>Berichte</translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <location filename="../../ui/main_window.py" line="115"/>
        <source>reception</source>
        <translation>Empfang</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="116"/>
        <source>nurse</source>
        <translation>Pflege</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="117"/>
        <source>clinician</source>
        <translation>Ärztlicher Dienst</translation>
    </message>
    <message>
        <location filename="../../ui/main_window.py" line="118"/>
        <source>administrator</source>
        <translation>Administration</translation>
    </message>
</context>
<context>
    <name>views</name>
    <message>
        <location filename="../../ui/views.py" line="55"/>
        <source>Mine</source>
        <translation>Meine</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="56"/>
        <source>Unassigned</source>
        <translation>Nicht zugewiesen</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="57"/>
        <source>All open</source>
        <translation>Alle offenen</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="58"/>
        <source>Escalated</source>
        <translation>Eskaliert</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="59"/>
        <location filename="../../ui/views.py" line="71"/>
        <location filename="../../ui/views.py" line="74"/>
        <source>Waiting for patient</source>
        <translation>Wartet auf Patient</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="60"/>
        <source>Window closing</source>
        <translation>Fenster schließt bald</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="61"/>
        <location filename="../../ui/views.py" line="72"/>
        <source>Snoozed</source>
        <translation>Zurückgestellt</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="62"/>
        <location filename="../../ui/views.py" line="73"/>
        <source>Resolved</source>
        <translation>Erledigt</translation>
    </message>
    <message>
        <location filename="../../ui/views.py" line="70"/>
        <source>Open</source>
        <translation>Offen</translation>
    </message>
</context>
</TS>
