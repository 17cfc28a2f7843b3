//! The console's own words in English and Polish, and dates and amounts as a
//! reader of each language writes them.
//!
//! The pages are written in English; `Lang::s` gives the Polish for an English
//! phrase from one table. A test reads every template and every `.s("…")` in the
//! console's code and fails on a phrase the table lacks, so a page cannot show
//! half its words untranslated.

use std::collections::HashMap;
use std::sync::LazyLock;

use herald_core::{Locale, Money};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The console's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Pl,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Pl];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pl => "pl",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Pl => "Polski",
        }
    }

    /// `en` or `pl` (also `pl-PL`); anything else is English.
    pub fn parse(s: &str) -> Lang {
        if s.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("pl")) {
            Lang::Pl
        } else {
            Lang::En
        }
    }

    /// The first language of an `Accept-Language` header the console speaks.
    pub fn from_accept(header: &str) -> Lang {
        header
            .split(',')
            .map(|part| part.split(';').next().unwrap_or("").trim())
            .find_map(|tag| {
                let p = tag.get(..2)?;
                if p.eq_ignore_ascii_case("pl") {
                    Some(Lang::Pl)
                } else if p.eq_ignore_ascii_case("en") {
                    Some(Lang::En)
                } else {
                    None
                }
            })
            .unwrap_or(Lang::En)
    }

    fn locale(self) -> Locale {
        match self {
            Lang::En => Locale::En,
            Lang::Pl => Locale::Pl,
        }
    }

    /// The phrase in this language.
    pub fn s(self, english: &'static str) -> &'static str {
        match self {
            Lang::En => english,
            Lang::Pl => POLISH.get(english).copied().unwrap_or(english),
        }
    }

    /// A moment in the business's time zone: `23 Nov 2026, 14:05` or
    /// `23.11.2026, 14:05`.
    pub fn when(self, at: Timestamp, tz: &TimeZone) -> String {
        let z = at.to_zoned(tz.clone());
        match self {
            Lang::En => z.strftime("%-d %b %Y, %H:%M").to_string(),
            Lang::Pl => z.strftime("%d.%m.%Y, %H:%M").to_string(),
        }
    }

    pub fn date(self, d: jiff::civil::Date) -> String {
        herald_render::format_date(d, self.locale())
    }

    pub fn money(self, m: &Money) -> String {
        herald_render::format_money(m, self.locale())
    }

    /// A count with the thousands grouped: `12,345` or `12 345`.
    pub fn count(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let sep = match self {
            Lang::En => ",",
            Lang::Pl => "\u{a0}",
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }
}

/// English phrase → Polish.
static POLISH: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| PHRASES.iter().copied().collect());

pub(crate) const PHRASES: &[(&str, &str)] = &[
    // Frame and sign-in
    ("Dashboard", "Pulpit"),
    ("Invoices", "Faktury"),
    ("History", "Historia"),
    ("Sign in", "Zaloguj się"),
    ("Sign out", "Wyloguj się"),
    ("Login", "Login"),
    ("Password", "Hasło"),
    ("Language", "Język"),
    ("Change", "Zmień"),
    ("signed in as", "zalogowano jako"),
    (
        "The login or the password is wrong.",
        "Login lub hasło są błędne.",
    ),
    (
        "Too many failed sign-ins for this login: wait 15 minutes and try again, or ask an administrator to set a new password (herald user password LOGIN).",
        "Zbyt wiele nieudanych logowań na ten login: odczekaj 15 minut i spróbuj ponownie albo poproś administratora o nowe hasło (herald user password LOGIN).",
    ),
    (
        "This console is served over plain HTTP to another machine: browsers drop its secure session cookie, so signing in cannot work. Put herald behind HTTPS (a reverse proxy), or on a trusted network set [console] secure_cookies = false.",
        "Konsola jest udostępniana innym komputerom przez zwykłe HTTP: przeglądarki odrzucają jej bezpieczne ciasteczko sesji, więc logowanie nie zadziała. Udostępnij herald przez HTTPS (reverse proxy) albo w zaufanej sieci ustaw [console] secure_cookies = false.",
    ),
    (
        "No one can sign in yet: create the first administrator with herald user create LOGIN --role admin.",
        "Nikt jeszcze nie może się zalogować: utwórz pierwszego administratora poleceniem herald user create LOGIN --role admin.",
    ),
    ("viewer", "podgląd"),
    ("operator", "operator"),
    ("admin", "administrator"),
    // Errors
    ("Not allowed", "Brak uprawnień"),
    ("Not found", "Nie znaleziono"),
    ("Something went wrong", "Coś poszło nie tak"),
    ("Bad request", "Błędne żądanie"),
    ("Back to the dashboard", "Powrót do pulpitu"),
    (
        "This form has expired or did not come from herald's console. Reload the page and try again.",
        "Formularz wygasł albo nie pochodzi z konsoli herald. Odśwież stronę i spróbuj ponownie.",
    ),
    (
        "Your role cannot do this; ask an administrator.",
        "Twoja rola na to nie pozwala; poproś administratora.",
    ),
    // Dashboard
    ("Pilot mode", "Tryb pilotażowy"),
    (
        "only these customers receive messages; everyone else's are held:",
        "wiadomości otrzymują tylko ci klienci; pozostałe są wstrzymane:",
    ),
    ("Service", "Usługa"),
    ("running", "działa"),
    ("stopped", "zatrzymana"),
    ("silent", "milczy"),
    ("not started yet", "jeszcze nie uruchomiona"),
    ("Node", "Węzeł"),
    ("State", "Stan"),
    ("Started", "Uruchomiono"),
    ("Last seen", "Ostatnio widziany"),
    ("Job", "Zadanie"),
    ("Last run", "Ostatnie uruchomienie"),
    ("Last success", "Ostatni sukces"),
    ("Next run", "Następne uruchomienie"),
    ("Runs", "Uruchomienia"),
    ("Failures", "Błędy"),
    ("Last error", "Ostatni błąd"),
    ("planner", "planista"),
    ("dispatcher", "wysyłka"),
    ("Problems", "Problemy"),
    ("Today", "Dzisiaj"),
    ("Queue", "Kolejka"),
    (
        "due now and not yet taken",
        "do wysłania teraz, jeszcze nie pobrane",
    ),
    ("Failures needing attention", "Błędy wymagające uwagi"),
    ("No failures.", "Brak błędów."),
    ("Nothing yet today.", "Dzisiaj jeszcze nic."),
    ("Show all", "Pokaż wszystkie"),
    // States
    ("pending", "oczekuje"),
    ("sending", "wysyłanie"),
    ("retrying", "ponawianie"),
    ("sent", "wysłano"),
    ("failed", "błąd"),
    ("not_applicable", "nie dotyczy"),
    ("cancelled", "anulowano"),
    ("partially_sent", "wysłano częściowo"),
    ("held", "wstrzymano"),
    // Lists
    ("Search", "Szukaj"),
    ("number, customer or name", "numer, klient lub nazwa"),
    ("All", "Wszystkie"),
    ("Open", "Otwarte"),
    ("Paid", "Zapłacone"),
    ("Overdue", "Przeterminowane"),
    ("Filter", "Filtruj"),
    ("Number", "Numer"),
    ("Customer", "Klient"),
    ("Issued", "Wystawiono"),
    ("Due", "Termin"),
    ("Amount", "Kwota"),
    ("Balance", "Do zapłaty"),
    ("Previous", "Poprzednia"),
    ("Next", "Następna"),
    ("Page", "Strona"),
    ("of", "z"),
    ("Results", "Wyniki"),
    ("Nothing matches.", "Nic nie pasuje."),
    // Preview, settings, audit log
    (
        "A dry run of the planner as of now: nothing is recorded or sent.",
        "Próbny przebieg planisty na teraz: nic nie jest zapisywane ani wysyłane.",
    ),
    ("Account", "Konto"),
    ("Action", "Czynność"),
    (
        "Any rule for any customer or document, rendered in the recipient's language exactly as it would be sent. Nothing is recorded or sent.",
        "Dowolna reguła dla dowolnego klienta lub dokumentu, w języku odbiorcy, dokładnie tak, jak zostałaby wysłana. Nic nie jest zapisywane ani wysyłane.",
    ),
    ("As the config file says", "Jak w pliku konfiguracyjnym"),
    ("Attachments", "Załączniki"),
    ("Audit log", "Dziennik zmian"),
    ("Back to the file's version", "Przywróć wersję z pliku"),
    ("Calendar", "Kalendarz"),
    ("Check and preview", "Sprawdź i pokaż podgląd"),
    ("Check and save", "Sprawdź i zapisz"),
    (
        "Customer ids, separated by commas; empty ends pilot mode",
        "Identyfikatory klientów, rozdzielone przecinkami; puste pole kończy tryb pilotażowy",
    ),
    ("Days off", "Dni wolne"),
    (
        "Days off, YYYY-MM-DD, separated by commas",
        "Dni wolne, RRRR-MM-DD, rozdzielone przecinkami",
    ),
    ("Declaration", "Zgłoszenie"),
    ("Detail", "Szczegóły"),
    ("E-mail accounts", "Konta e-mail"),
    ("It is in the audit log.", "Zapisano w dzienniku zmian."),
    ("Kind", "Rodzaj"),
    ("Languages", "Języki"),
    ("More days off", "Dodatkowe dni wolne"),
    (
        "No [calendar] section: messages go out whenever due, any day, any hour.",
        "Brak sekcji [calendar]: wiadomości wychodzą w terminie, każdego dnia, o każdej porze.",
    ),
    (
        "Nothing new would be sent.",
        "Nic nowego nie zostałoby wysłane.",
    ),
    (
        "Nothing was saved. Fix what is listed and try again.",
        "Nic nie zapisano. Popraw wymienione błędy i spróbuj ponownie.",
    ),
    ("Nothing yet.", "Jeszcze nic."),
    ("Now", "Teraz"),
    ("On", "Włączona"),
    ("Phone number", "Numer telefonu"),
    ("Pilot customers", "Klienci pilotażowi"),
    ("Preview against real data", "Podgląd na prawdziwych danych"),
    ("Preview", "Podgląd"),
    ("Rules and schedules", "Reguły i harmonogramy"),
    ("SMS gateway", "Bramka SMS"),
    ("Save", "Zapisz"),
    ("Send test SMS", "Wyślij testowy SMS"),
    ("Send test message", "Wyślij wiadomość testową"),
    ("Server", "Serwer"),
    ("Settings", "Ustawienia"),
    ("Show", "Pokaż"),
    ("Subject", "Temat"),
    ("Templates", "Szablony"),
    ("Test connection", "Testuj połączenie"),
    ("Test", "Test"),
    ("Text", "Tekst"),
    ("The message as HTML", "Wiadomość jako HTML"),
    ("The planner runs", "Planista działa"),
    (
        "The test failed: see the step above, fix the account in the config file and try again.",
        "Test nie powiódł się: zobacz krok powyżej, popraw konto w pliku konfiguracyjnym i spróbuj ponownie.",
    ),
    ("The test passed.", "Test zakończony powodzeniem."),
    ("To", "Do"),
    ("Verdict", "Werdykt"),
    (
        "What will be sent in the next run",
        "Co zostanie wysłane w następnym przebiegu",
    ),
    ("What", "Czego"),
    (
        "While any are named, only they receive messages; everyone else's wait until pilot mode ends.",
        "Dopóki ktoś jest wpisany, tylko ci klienci dostają wiadomości; pozostałe czekają do końca trybu pilotażowego.",
    ),
    (
        "Who resent, paused, cancelled, tested or changed what; newest first, the last 500.",
        "Kto co wysłał ponownie, wstrzymał, anulował, przetestował lub zmienił; od najnowszych, ostatnie 500.",
    ),
    ("Who", "Kto"),
    ("Window", "Okno"),
    ("address", "adres"),
    ("all day", "cały dzień"),
    ("already recorded", "już zapisane"),
    (
        "change it there and restart herald; the console cannot change it.",
        "zmień to tam i uruchom herald ponownie; konsola tego nie zmienia.",
    ),
    ("changed by", "zmienił(a)"),
    ("comes from", "pochodzi z"),
    ("config file", "plik konfiguracyjny"),
    ("console", "konsola"),
    ("templates folder", "folder szablonów"),
    ("built in", "wbudowany"),
    ("file outbox", "skrzynka plikowa"),
    ("herald's own template", "szablon dostarczony z herald"),
    (
        "is stored in herald's database: it survives restarts and applies on every node.",
        "jest zapisane w bazie herald: przetrwa restart i działa na każdym węźle.",
    ),
    ("last changed", "ostatnia zmiana"),
    ("latest open", "najnowsza otwarta"),
    ("never changed", "nigdy nie zmieniano"),
    ("new", "nowe"),
    ("next run", "następny przebieg"),
    ("no", "nie"),
    ("yes", "tak"),
    (
        "nobody: no contact of this customer can be reached by this rule",
        "nikt: żaden kontakt tego klienta nie jest osiągalny tą regułą",
    ),
    ("none (pilot mode off)", "brak (tryb pilotażowy wyłączony)"),
    ("none", "brak"),
    ("not sent", "nie zostanie wysłane"),
    ("will be sent", "zostanie wysłane"),
    ("shared account", "konto wspólne"),
    ("show", "pokaż"),
    ("the recipient's", "odbiorcy"),
    (
        "this part cannot be empty; every e-mail needs a subject, a text and an HTML part",
        "ta część nie może być pusta; każdy e-mail potrzebuje tematu, tekstu i części HTML",
    ),
    ("Weekend", "Weekend"),
    ("Public holidays of", "Święta państwowe"),
    ("Send window", "Okno wysyłki"),
    ("invoice", "faktura"),
    ("dunning", "windykacja"),
    ("task", "zadanie"),
    ("event", "zdarzenie"),
    ("summary", "podsumowanie"),
    ("digest", "zestawienie"),
    (
        "Saved. It applies now, on every node within 10 seconds.",
        "Zapisano. Obowiązuje od teraz, na każdym węźle w ciągu 10 sekund.",
    ),
    // Declarations and tasks
    ("Declarations", "Zgłoszenia celne"),
    ("Tasks", "Zadania"),
    ("Task", "Zadanie"),
    ("Last event", "Ostatnie zdarzenie"),
    ("Starts", "Początek"),
    ("Title", "Tytuł"),
    ("Repeats", "Powtarzanie"),
    ("Next start", "Następny początek"),
    ("Send a month's invoices", "Wyślij faktury z miesiąca"),
    ("Month", "Miesiąc"),
    ("Send in background", "Wyślij w tle"),
    (
        "Every invoice of that month not sent yet, to each customer who agreed to receive invoices; once, however often it is asked.",
        "Każda jeszcze niewysłana faktura z tego miesiąca, do każdego klienta, który zgodził się je otrzymywać; raz, niezależnie od tego, ile razy zlecono.",
    ),
    (
        "Queued in the background: the dispatcher is sending them; they appear here as they go.",
        "Zlecono w tle: dyspozytor je wysyła; pojawiają się tutaj w miarę wysyłki.",
    ),
    (
        "Declaration, task or operator",
        "Zgłoszenie, zadanie lub operator",
    ),
    (
        "an empty SMS part would send empty messages; write the SMS, or undo the edit with Back to the file's version",
        "pusta część SMS wysyłałaby puste wiadomości; wpisz treść SMS albo cofnij zmianę przyciskiem Przywróć wersję z pliku",
    ),
    ("Operator", "Operator"),
    ("Events", "Zdarzenia"),
    ("number or customer", "numer lub klient"),
    ("title, id or customer", "tytuł, identyfikator lub klient"),
    // Users and tokens
    ("API tokens", "Tokeny API"),
    ("Add a user", "Dodaj użytkownika"),
    (
        "Choose at least one scope.",
        "Wybierz co najmniej jeden zakres.",
    ),
    ("Console users", "Użytkownicy konsoli"),
    (
        "Copy it now: it is shown this once, and herald keeps only its hash.",
        "Skopiuj go teraz: jest pokazywany tylko raz, a herald przechowuje wyłącznie jego skrót.",
    ),
    ("Create a token", "Utwórz token"),
    ("Created", "Utworzono"),
    ("Disable", "Wyłącz"),
    ("Disabled", "Wyłączono"),
    ("Enable", "Włącz"),
    ("Last used", "Ostatnio użyty"),
    ("New password", "Nowe hasło"),
    ("Revoke", "Unieważnij"),
    ("Revoked", "Unieważniono"),
    ("Role", "Rola"),
    ("Scopes", "Zakresy"),
    ("Send it as", "Wysyłaj go jako"),
    ("Token", "Token"),
    ("Users and tokens", "Użytkownicy i tokeny"),
    ("Users", "Użytkownicy"),
    (
        "You cannot change your own role or disable yourself; ask another admin, or use herald user on the server.",
        "Nie możesz zmienić własnej roli ani wyłączyć siebie; poproś innego administratora albo użyj herald user na serwerze.",
    ),
    (
        "everything, also resend, cancel and pause",
        "wszystko, także ponowna wysyłka, anulowanie i wstrzymanie",
    ),
    ("is taken already", "jest już zajęty"),
    (
        "read notifications, statuses and history",
        "odczyt powiadomień, statusów i historii",
    ),
    (
        "say which system will use it, e.g. ERP",
        "podaj, który system będzie go używał, np. ERP",
    ),
    (
        "send records and events in",
        "przesyłanie rekordów i zdarzeń",
    ),
    (
        "not applicable: the invoice is paid",
        "nie dotyczy: faktura jest zapłacona",
    ),
    ("not yet planned: due on", "jeszcze nie zaplanowane: termin"),
    ("not applicable: its day", "nie dotyczy: jej dzień"),
    (
        "had passed before herald received the invoice",
        "minął, zanim herald otrzymał fakturę",
    ),
    // Document page
    ("Invoice", "Faktura"),
    ("Next reminder", "Następne przypomnienie"),
    ("Statuses", "Statusy"),
    ("Rule", "Reguła"),
    ("Status", "Status"),
    ("Level", "Poziom"),
    ("Why", "Dlaczego"),
    ("Notifications", "Powiadomienia"),
    ("Notification", "Powiadomienie"),
    ("Template", "Szablon"),
    ("Planned for", "Zaplanowano na"),
    ("Delivery", "Doręczenie"),
    ("Channel", "Kanał"),
    ("Recipient", "Odbiorca"),
    ("Attempts", "Próby"),
    ("Attempt", "Próba"),
    ("Time", "Czas"),
    ("Server response", "Odpowiedź serwera"),
    ("Sent", "Wysłano"),
    ("Resend", "Wyślij ponownie"),
    ("Resend to another address", "Wyślij na inny adres"),
    ("Address", "Adres"),
    ("Name", "Nazwa"),
    ("the rule's template", "szablon reguły"),
    ("Cancel", "Anuluj"),
    ("Reason", "Powód"),
    ("Pause reminders", "Wstrzymaj przypomnienia"),
    ("Resume reminders", "Wznów przypomnienia"),
    ("Reminders are paused", "Przypomnienia są wstrzymane"),
    ("until", "do"),
    ("by", "przez"),
    ("this invoice", "ta faktura"),
    ("this customer", "ten klient"),
    (
        "No notification about this invoice yet.",
        "Jeszcze nie ma powiadomień o tej fakturze.",
    ),
    ("resend of", "ponowienie"),
    ("asked by", "na prośbę"),
    (
        "Queued: the dispatcher sends it at once.",
        "W kolejce: wysyłka nastąpi od razu.",
    ),
    ("Cancelled.", "Anulowano."),
    ("Paused.", "Wstrzymano."),
    ("Resumed.", "Wznowiono."),
    (
        "Nothing was waiting to be cancelled.",
        "Nic nie czekało na anulowanie.",
    ),
    // History
    ("Every delivery", "Wszystkie doręczenia"),
    ("From", "Od"),
    ("Until", "Do"),
    ("Export CSV", "Eksport CSV"),
    ("When", "Kiedy"),
    ("About", "Dotyczy"),
    ("e-mail", "e-mail"),
    ("sms", "SMS"),
    ("webhook", "webhook"),
    ("any", "dowolny"),
    // Added with the pages
    (
        "The service is not running: start it with herald serve.",
        "Usługa nie działa: uruchom ją poleceniem herald serve.",
    ),
    ("Jobs", "Zadania"),
    (
        "No node is running: the jobs run inside herald serve.",
        "Żaden węzeł nie działa: zadania działają w ramach herald serve.",
    ),
    ("Nodes", "Węzły"),
    (
        "There is no such page in the console.",
        "W konsoli nie ma takiej strony.",
    ),
    (
        "This notification was never addressed to anyone: type an address to resend it to.",
        "To powiadomienie nie miało odbiorcy: wpisz adres, na który ma zostać wysłane.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_as_written_and_polish_comes_from_the_table() {
        assert_eq!(Lang::En.s("Invoices"), "Invoices");
        assert_eq!(Lang::Pl.s("Invoices"), "Faktury");
        assert_eq!(Lang::from_accept("pl-PL,pl;q=0.9,en;q=0.8"), Lang::Pl);
        assert_eq!(Lang::from_accept("de-DE, en;q=0.5"), Lang::En);
        assert_eq!(Lang::Pl.count(1234567), "1\u{a0}234\u{a0}567");
        assert_eq!(Lang::En.count(-1234), "-1,234");
        let tz = TimeZone::get("Europe/Warsaw").unwrap();
        let at: Timestamp = "2026-11-23T13:05:00Z".parse().unwrap();
        assert_eq!(Lang::En.when(at, &tz), "23 Nov 2026, 14:05");
        assert_eq!(Lang::Pl.when(at, &tz), "23.11.2026, 14:05");
    }

    #[test]
    fn the_table_has_each_phrase_once() {
        let mut seen = std::collections::HashSet::new();
        for (en, _) in PHRASES {
            assert!(seen.insert(*en), "'{en}' is in the table twice");
        }
    }

    /// Every `.s("…")` of the templates and of the console's code is in the table.
    #[test]
    fn every_phrase_the_console_shows_has_its_polish() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = Vec::new();
        for dir in ["templates/console", "src/console"] {
            for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        let mut missing = Vec::new();
        for path in files {
            if path.ends_with("i18n.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split(".s(\"").skip(1) {
                let Some(end) = part.find("\")") else {
                    continue;
                };
                let phrase = &part[..end];
                if !POLISH.contains_key(phrase) {
                    missing.push(format!("{}: {phrase:?}", path.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "phrases without Polish (add them to PHRASES):\n{}",
            missing.join("\n")
        );
    }
}
