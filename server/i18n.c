/* i18n: the server's sentences in en, sl, ro, uk and nb, and Accept-Language negotiation. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "util.h"

const char *const i18n_languages[] = { "en", "sl", "ro", "uk", "nb", NULL };

/* One sentence: the English pattern and its translations in i18n_languages order after "en".
 * "{}" is a placeholder; translations use the placeholders in the same order. The first matching
 * pattern wins, so longer, more specific patterns come first. */
typedef struct phrase {
	const char *en, *sl, *ro, *uk, *nb;
} phrase;

static const phrase phrases[] = {
	/* ---- validation messages (validate.c), shown after "This field" ---- */
	{ "This field {}", "To polje {}", "Acest câmp {}", "Це поле {}", "Dette feltet {}" },
	{ "is required", "je obvezno", "este obligatoriu", "обов'язкове", "må fylles ut" },
	{ "must be accepted", "mora biti potrjeno", "trebuie bifat", "потрібно підтвердити", "må godtas" },
	{ "is not a question of this form", "ni vprašanje tega obrazca", "nu este o întrebare a acestui formular",
	  "не є питанням цієї форми", "er ikke et spørsmål i dette skjemaet" },
	{ "must be an object", "mora biti objekt", "trebuie să fie un obiect", "має бути об'єктом", "må være et objekt" },
	{ "must be a whole number from 0 to 10", "mora biti celo število od 0 do 10",
	  "trebuie să fie un număr întreg de la 0 la 10", "має бути цілим числом від 0 до 10",
	  "må være et heltall fra 0 til 10" },
	{ "must be a whole number within the rating scale", "mora biti celo število na lestvici ocen",
	  "trebuie să fie un număr întreg din scala de evaluare", "має бути цілим числом у межах шкали оцінки",
	  "må være et heltall innenfor skalaen" },
	{ "must be a whole number from 1 to {}", "mora biti celo število od 1 do {}",
	  "trebuie să fie un număr întreg de la 1 la {}", "має бути цілим числом від 1 до {}",
	  "må være et heltall fra 1 til {}" },
	{ "must be a number within the allowed range", "mora biti število v dovoljenem razponu",
	  "trebuie să fie un număr în intervalul permis", "має бути числом у дозволених межах",
	  "må være et tall innenfor tillatt område" },
	{ "must be a number from {} to {}", "mora biti število od {} do {}", "trebuie să fie un număr de la {} la {}",
	  "має бути числом від {} до {}", "må være et tall fra {} til {}" },
	{ "must be a number", "mora biti število", "trebuie să fie un număr", "має бути числом", "må være et tall" },
	{ "must be at most {} characters", "ima lahko največ {} znakov", "poate avea cel mult {} caractere",
	  "може містити щонайбільше {} символів", "kan ha høyst {} tegn" },
	{ "must be at least {}", "mora biti vsaj {}", "trebuie să fie cel puțin {}", "має бути щонайменше {}",
	  "må være minst {}" },
	{ "must be at most {}", "mora biti največ {}", "trebuie să fie cel mult {}", "має бути щонайбільше {}",
	  "må være høyst {}" },
	{ "must be one of the listed options", "mora biti ena od navedenih možnosti",
	  "trebuie să fie una dintre opțiunile din listă", "має бути одним із запропонованих варіантів",
	  "må være et av de oppførte valgene" },
	{ "must be a list of the listed options", "mora biti seznam navedenih možnosti",
	  "trebuie să fie o listă de opțiuni din listă", "має бути списком запропонованих варіантів",
	  "må være en liste over de oppførte valgene" },
	{ "must contain only the listed options", "sme vsebovati le navedene možnosti",
	  "poate conține doar opțiunile din listă", "може містити лише запропоновані варіанти",
	  "kan bare inneholde de oppførte valgene" },
	{ "must not repeat an option", "ne sme ponoviti možnosti", "nu poate repeta o opțiune",
	  "не може повторювати варіант", "kan ikke gjenta et valg" },
	{ "must be text", "mora biti besedilo", "trebuie să fie text", "має бути текстом", "må være tekst" },
	{ "must not contain NUL characters", "ne sme vsebovati znakov NUL", "nu poate conține caractere NUL",
	  "не може містити символів NUL", "kan ikke inneholde NUL-tegn" },
	{ "must be valid UTF-8 text", "mora biti veljavno besedilo UTF-8", "trebuie să fie text UTF-8 valid",
	  "має бути коректним текстом UTF-8", "må være gyldig UTF-8-tekst" },
	{ "is too long", "je predolgo", "este prea lung", "задовге", "er for langt" },
	{ "must look like name@example.com", "mora biti oblike ime@primer.si",
	  "trebuie să arate ca nume@exemplu.ro", "має мати вигляд name@example.com", "må se ut som navn@eksempel.no" },
	{ "must have at most 64 characters before the @", "ima lahko pred @ največ 64 znakov",
	  "poate avea cel mult 64 de caractere înainte de @", "може мати щонайбільше 64 символи перед @",
	  "kan ha høyst 64 tegn før @" },
	{ "must have 8 to 15 digits including the country code", "mora imeti od 8 do 15 števk skupaj s kodo države",
	  "trebuie să aibă între 8 și 15 cifre, inclusiv prefixul țării",
	  "має містити від 8 до 15 цифр разом із кодом країни", "må ha 8 til 15 sifre inkludert landskoden" },
	{ "must contain only digits, spaces, dashes, dots and parentheses",
	  "sme vsebovati le števke, presledke, vezaje, pike in oklepaje",
	  "poate conține doar cifre, spații, cratime, puncte și paranteze",
	  "може містити лише цифри, пробіли, дефіси, крапки та дужки",
	  "kan bare inneholde sifre, mellomrom, bindestreker, punktum og parenteser" },
	{ "must start with + and the country code", "se mora začeti z + in kodo države",
	  "trebuie să înceapă cu + și prefixul țării", "має починатися з + і коду країни",
	  "må starte med + og landskoden" },
	{ "must be a phone number such as +386 40 123 456", "mora biti telefonska številka, npr. +386 40 123 456",
	  "trebuie să fie un număr de telefon, de exemplu +40 712 345 678",
	  "має бути номером телефону, наприклад +380 44 123 4567",
	  "må være et telefonnummer, for eksempel +47 912 34 567" },
	{ "must be a date written as YYYY-MM-DD", "mora biti datum v obliki LLLL-MM-DD",
	  "trebuie să fie o dată scrisă AAAA-LL-ZZ", "має бути датою у форматі РРРР-ММ-ДД",
	  "må være en dato skrevet ÅÅÅÅ-MM-DD" },
	{ "must be a date with a year from 1900 to 2100", "mora biti datum z letnico od 1900 do 2100",
	  "trebuie să fie o dată cu anul între 1900 și 2100", "має бути датою з роком від 1900 до 2100",
	  "må være en dato med årstall fra 1900 til 2100" },
	{ "must be a real calendar date", "mora biti obstoječ datum", "trebuie să fie o dată reală din calendar",
	  "має бути справжньою календарною датою", "må være en ekte kalenderdato" },
	{ "must be true or false", "mora biti da ali ne", "trebuie să fie adevărat sau fals",
	  "має бути так або ні", "må være sann eller usann" },
	{ "is of an unknown type", "je neznane vrste", "este de un tip necunoscut", "має невідомий тип",
	  "er av en ukjent type" },
	{ "must answer at least one question", "mora odgovoriti na vsaj eno vprašanje",
	  "trebuie să răspundă la cel puțin o întrebare", "має відповісти хоча б на одне питання",
	  "må svare på minst ett spørsmål" },
	{ "must be 1 to 200 visible ASCII characters", "mora imeti od 1 do 200 vidnih znakov ASCII",
	  "trebuie să aibă între 1 și 200 de caractere ASCII vizibile",
	  "має містити від 1 до 200 видимих символів ASCII", "må være 1 til 200 synlige ASCII-tegn" },

	/* ---- rules shown beside a field (render.c) ---- */
	{ "At most {} characters.", "Največ {} znakov.", "Cel mult {} caractere.", "Щонайбільше {} символів.",
	  "Høyst {} tegn." },
	{ "An email address such as name@example.com, at most {} characters.",
	  "E-poštni naslov, npr. ime@primer.si, največ {} znakov.",
	  "O adresă de e-mail, de exemplu nume@exemplu.ro, de cel mult {} caractere.",
	  "Адреса електронної пошти, наприклад name@example.com, щонайбільше {} символів.",
	  "En e-postadresse, for eksempel navn@eksempel.no, høyst {} tegn." },
	{ "An email address, at most {} characters.", "E-poštni naslov, največ {} znakov.",
	  "O adresă de e-mail, de cel mult {} caractere.", "Адреса електронної пошти, щонайбільше {} символів.",
	  "En e-postadresse, høyst {} tegn." },
	{ "A phone number; without a country code it is taken as +{}. 8 to 15 digits with the country code.",
	  "Telefonska številka; brez kode države velja +{}. Od 8 do 15 števk s kodo države.",
	  "Un număr de telefon; fără prefixul țării se consideră +{}. Între 8 și 15 cifre cu prefixul țării.",
	  "Номер телефону; без коду країни вважається +{}. Від 8 до 15 цифр разом із кодом країни.",
	  "Et telefonnummer; uten landskode brukes +{}. 8 til 15 sifre med landskoden." },
	{ "A phone number starting with + and the country code, such as +386 40 123 456: 8 to 15 digits.",
	  "Telefonska številka, ki se začne z + in kodo države, npr. +386 40 123 456: od 8 do 15 števk.",
	  "Un număr de telefon care începe cu + și prefixul țării, de exemplu +40 712 345 678: între 8 și 15 cifre.",
	  "Номер телефону, що починається з + і коду країни, наприклад +380 44 123 4567: від 8 до 15 цифр.",
	  "Et telefonnummer som starter med + og landskoden, for eksempel +47 912 34 567: 8 til 15 sifre." },
	{ "A phone number starting with + and the country code: 8 to 15 digits.",
	  "Telefonska številka, ki se začne z + in kodo države: od 8 do 15 števk.",
	  "Un număr de telefon care începe cu + și prefixul țării: între 8 și 15 cifre.",
	  "Номер телефону, що починається з + і коду країни: від 8 до 15 цифр.",
	  "Et telefonnummer som starter med + og landskoden: 8 til 15 sifre." },
	{ "A date written as YYYY-MM-DD, with a year from 1900 to 2100.",
	  "Datum v obliki LLLL-MM-DD z letnico od 1900 do 2100.",
	  "O dată scrisă AAAA-LL-ZZ, cu anul între 1900 și 2100.",
	  "Дата у форматі РРРР-ММ-ДД, рік від 1900 до 2100.",
	  "En dato skrevet ÅÅÅÅ-MM-DD, med årstall fra 1900 til 2100." },
	{ "A number from {} to {}.", "Število od {} do {}.", "Un număr de la {} la {}.", "Число від {} до {}.",
	  "Et tall fra {} til {}." },
	{ "A number of at least {}.", "Število, vsaj {}.", "Un număr de cel puțin {}.", "Число, щонайменше {}.",
	  "Et tall på minst {}." },
	{ "A number of at most {}.", "Število, največ {}.", "Un număr de cel mult {}.", "Число, щонайбільше {}.",
	  "Et tall på høyst {}." },
	{ "A number.", "Število.", "Un număr.", "Число.", "Et tall." },
	{ "Choose from 0 (not at all likely) to 10 (extremely likely).",
	  "Izberite od 0 (sploh ni verjetno) do 10 (zelo verjetno).",
	  "Alegeți de la 0 (deloc probabil) la 10 (extrem de probabil).",
	  "Оберіть від 0 (зовсім малоймовірно) до 10 (дуже ймовірно).",
	  "Velg fra 0 (svært lite sannsynlig) til 10 (svært sannsynlig)." },
	{ "Choose from 1 to {}.", "Izberite od 1 do {}.", "Alegeți de la 1 la {}.", "Оберіть від 1 до {}.",
	  "Velg fra 1 til {}." },
	{ "Choose one.", "Izberite eno možnost.", "Alegeți o opțiune.", "Оберіть один варіант.", "Velg ett." },
	{ "Choose any that apply.", "Izberite vse, kar velja.", "Alegeți toate variantele potrivite.",
	  "Оберіть усі, що підходять.", "Velg alle som passer." },
	{ "Tick the box to agree.", "Za strinjanje označite polje.", "Bifați căsuța pentru a fi de acord.",
	  "Позначте поле, щоб погодитися.", "Kryss av i boksen for å godta." },
	{ "Example:", "Primer:", "Exemplu:", "Приклад:", "Eksempel:" },

	/* ---- page chrome and whole-page messages ---- */
	{ "required", "obvezno", "obligatoriu", "обов'язково", "påkrevd" },
	{ "optional", "neobvezno", "opțional", "необов'язково", "valgfritt" },
	{ "Send", "Pošlji", "Trimite", "Надіслати", "Send" },
	{ "Some answers need another look:", "Nekatere odgovore preverite še enkrat:",
	  "Unele răspunsuri trebuie verificate din nou:", "Деякі відповіді варто перевірити ще раз:",
	  "Noen svar må sees over igjen:" },
	{ "Some answers need another look.", "Nekatere odgovore preverite še enkrat.",
	  "Unele răspunsuri trebuie verificate din nou.", "Деякі відповіді варто перевірити ще раз.",
	  "Noen svar må sees over igjen." },
	{ "Your answer", "Vaš odgovor", "Răspunsul dumneavoastră", "Ваша відповідь", "Svaret ditt" },
	{ "Thank you!", "Hvala!", "Mulțumim!", "Дякуємо!", "Takk!" },
	{ "Your offer", "Vaša ponudba", "Oferta dumneavoastră", "Ваша пропозиція", "Tilbudet ditt" },
	{ "Your address is confirmed. Thank you!", "Vaš naslov je potrjen. Hvala!", "Adresa dumneavoastră este confirmată. Mulțumim!",
	  "Вашу адресу підтверджено. Дякуємо!", "Adressen din er bekreftet. Takk!" },
	{ "This link does not work", "Ta povezava ne deluje", "Acest link nu funcționează", "Це посилання не працює",
	  "Denne lenken virker ikke" },
	{ "This confirmation link is not valid.", "Ta potrditvena povezava ni veljavna.",
	  "Acest link de confirmare nu este valid.", "Це посилання для підтвердження недійсне.",
	  "Denne bekreftelseslenken er ikke gyldig." },
	{ "This confirmation link was already used.", "Ta potrditvena povezava je že bila uporabljena.",
	  "Acest link de confirmare a fost deja folosit.", "Це посилання для підтвердження вже використано.",
	  "Denne bekreftelseslenken er allerede brukt." },
	{ "This confirmation link has expired.", "Ta potrditvena povezava je potekla.",
	  "Acest link de confirmare a expirat.", "Термін дії цього посилання для підтвердження минув.",
	  "Denne bekreftelseslenken er utløpt." },
	{ "Your confirmation could not be stored. Please open the link again in a moment.",
	  "Potrditve ni bilo mogoče shraniti. Povezavo odprite znova čez trenutek.",
	  "Confirmarea nu a putut fi salvată. Deschideți din nou linkul peste câteva momente.",
	  "Не вдалося зберегти підтвердження. Відкрийте посилання ще раз за хвилинку.",
	  "Bekreftelsen kunne ikke lagres. Åpne lenken igjen om litt." },
	{ "Please confirm your address", "Potrdite svoj naslov", "Vă rugăm să vă confirmați adresa",
	  "Підтвердьте свою адресу", "Bekreft adressen din" },
	{ "Open this link to confirm your signup:", "Odprite to povezavo, da potrdite prijavo:",
	  "Deschideți acest link pentru a vă confirma înscrierea:", "Відкрийте це посилання, щоб підтвердити реєстрацію:",
	  "Åpne denne lenken for å bekrefte påmeldingen:" },
	{ "Confirm my address", "Potrdi moj naslov", "Confirm adresa", "Підтвердити мою адресу", "Bekreft adressen min" },
	{ "If you did not sign up, ignore this email: your address is not confirmed and nothing more is sent.",
	  "Če se niste prijavili, to sporočilo prezrite: vaš naslov ni potrjen in ničesar več ne pošljemo.",
	  "Dacă nu v-ați înscris, ignorați acest e-mail: adresa nu este confirmată și nu mai trimitem nimic.",
	  "Якщо ви не реєструвалися, проігноруйте цей лист: адресу не підтверджено, і більше нічого не надсилатимемо.",
	  "Hvis du ikke meldte deg på, kan du se bort fra denne e-posten: adressen er ikke bekreftet, og ingenting mer sendes." },

	{ "Your code:", "Vaša koda:", "Codul dumneavoastră:", "Ваш код:", "Koden din:" },
	{ "Leave this field empty", "To polje pustite prazno", "Lăsați acest câmp gol", "Залиште це поле порожнім",
	  "La dette feltet stå tomt" },
	{ "Form not found", "Obrazca ni", "Formularul nu a fost găsit", "Форму не знайдено", "Fant ikke skjemaet" },
	{ "There is no form at this address. It may have been closed.",
	  "Na tem naslovu ni obrazca. Morda je bil zaprt.",
	  "Nu există niciun formular la această adresă. Este posibil să fi fost închis.",
	  "За цією адресою немає форми. Можливо, її закрито.",
	  "Det finnes ikke noe skjema på denne adressen. Det kan ha blitt stengt." },
	{ "There is no active form with this id.", "Aktivnega obrazca s tem id-jem ni.",
	  "Nu există niciun formular activ cu acest id.", "Немає активної форми з таким id.",
	  "Det finnes ikke noe aktivt skjema med denne id-en." },
	{ "This form is closed", "Obrazec je zaprt", "Formularul este închis", "Форму закрито", "Skjemaet er stengt" },
	{ "This form is not open yet.", "Obrazec še ni odprt.", "Formularul nu este încă deschis.",
	  "Форма ще не відкрита.", "Skjemaet er ikke åpnet ennå." },
	{ "This form is no longer taking answers.", "Obrazec ne sprejema več odgovorov.",
	  "Formularul nu mai primește răspunsuri.", "Форма більше не приймає відповідей.",
	  "Skjemaet tar ikke lenger imot svar." },
	{ "This form has received all the answers it needs.", "Obrazec je prejel vse odgovore, ki jih potrebuje.",
	  "Formularul a primit toate răspunsurile de care are nevoie.",
	  "Форма вже отримала всі потрібні відповіді.", "Skjemaet har fått alle svarene det trenger." },
	{ "Thank you for your interest.", "Hvala za vaše zanimanje.", "Vă mulțumim pentru interes.",
	  "Дякуємо за ваш інтерес.", "Takk for interessen." },
	{ "Please wait a moment", "Počakajte trenutek", "Vă rugăm să așteptați puțin", "Зачекайте хвилинку",
	  "Vent litt" },
	{ "Too many answers came from your address. Please wait {} seconds and send again.",
	  "Z vašega naslova je prišlo preveč odgovorov. Počakajte {} s in pošljite znova.",
	  "Au venit prea multe răspunsuri de la adresa dumneavoastră. Așteptați {} s și trimiteți din nou.",
	  "З вашої адреси надійшло забагато відповідей. Зачекайте {} с і надішліть ще раз.",
	  "Det kom for mange svar fra adressen din. Vent {} s og send igjen." },
	{ "Too many answers came from your address. Please wait {} second and send again.",
	  "Z vašega naslova je prišlo preveč odgovorov. Počakajte {} s in pošljite znova.",
	  "Au venit prea multe răspunsuri de la adresa dumneavoastră. Așteptați {} s și trimiteți din nou.",
	  "З вашої адреси надійшло забагато відповідей. Зачекайте {} с і надішліть ще раз.",
	  "Det kom for mange svar fra adressen din. Vent {} s og send igjen." },
	{ "Too many answers from this address; please wait a moment.",
	  "Z tega naslova je prišlo preveč odgovorov; počakajte trenutek.",
	  "Prea multe răspunsuri de la această adresă; vă rugăm să așteptați puțin.",
	  "Забагато відповідей з цієї адреси; зачекайте хвилинку.",
	  "For mange svar fra denne adressen; vent litt." },
	{ "Unsupported form data", "Nepodprti podatki obrazca", "Date de formular neacceptate",
	  "Непідтримувані дані форми", "Skjemadata som ikke støttes" },
	{ "Send this form as application/x-www-form-urlencoded.",
	  "Obrazec pošljite kot application/x-www-form-urlencoded.",
	  "Trimiteți acest formular ca application/x-www-form-urlencoded.",
	  "Надішліть цю форму як application/x-www-form-urlencoded.",
	  "Send dette skjemaet som application/x-www-form-urlencoded." },
	{ "Your answer could not be stored, and nothing was kept. Please try again in a moment.",
	  "Vašega odgovora ni bilo mogoče shraniti in nič ni bilo ohranjeno. Poskusite znova čez trenutek.",
	  "Răspunsul nu a putut fi salvat și nu s-a păstrat nimic. Încercați din nou peste puțin timp.",
	  "Вашу відповідь не вдалося зберегти, нічого не збережено. Спробуйте ще раз за мить.",
	  "Svaret ditt kunne ikke lagres, og ingenting ble beholdt. Prøv igjen om litt." },
	{ "The answer could not be stored; nothing was kept. Please try again.",
	  "Odgovora ni bilo mogoče shraniti; nič ni bilo ohranjeno. Poskusite znova.",
	  "Răspunsul nu a putut fi salvat; nu s-a păstrat nimic. Încercați din nou.",
	  "Відповідь не вдалося зберегти; нічого не збережено. Спробуйте ще раз.",
	  "Svaret kunne ikke lagres; ingenting ble beholdt. Prøv igjen." },
	{ "This page was open for a long time, so nothing was sent yet. Please check your answers and send them again.",
	  "Stran je bila odprta dolgo časa, zato še nič ni bilo poslano. Preverite odgovore in jih pošljite znova.",
	  "Pagina a fost deschisă mult timp, așa că nu s-a trimis încă nimic. Verificați răspunsurile și trimiteți-le din nou.",
	  "Сторінка була відкрита надто довго, тому нічого ще не надіслано. Перевірте відповіді й надішліть їх знову.",
	  "Siden var åpen lenge, så ingenting er sendt ennå. Se over svarene og send dem igjen." },
};

/* The translation of p into language index li (1..4), or NULL. */
static const char *phrase_in(const phrase *p, size_t li)
{
	switch (li) {
	case 1: return p->sl;
	case 2: return p->ro;
	case 3: return p->uk;
	case 4: return p->nb;
	}
	return NULL;
}

#define MAX_HOLES 3

/* Matches text against pattern, where "{}" matches any non-empty text (shortest first, backtracking).
 * Fills holes[i] with start/length of each. Returns true on a whole match. */
static bool match(const char *pat, const char *text, const char *holes[], size_t lens[], size_t k)
{
	const char *hole = strstr(pat, "{}");
	if (!hole)
		return strcmp(pat, text) == 0;
	size_t lit = (size_t)(hole - pat);
	if (k >= MAX_HOLES || strncmp(pat, text, lit) != 0)
		return false;
	const char *start = text + lit;
	for (size_t n = 1; n <= strlen(start); n++) {
		holes[k] = start;
		lens[k] = n;
		if (match(hole + 2, start + n, holes, lens, k + 1))
			return true;
	}
	return false;
}

/* Index of lang in i18n_languages, or 0 (English) when unknown or NULL. */
static size_t language_index(const char *lang)
{
	for (size_t i = 0; lang && i18n_languages[i]; i++)
		if (strcmp(i18n_languages[i], lang) == 0)
			return i;
	return 0;
}

/* Translates one finished English sentence (malloc'd result). */
char *i18n_sentence(const char *lang, const char *english)
{
	size_t li = language_index(lang);
	if (li == 0 || !english)
		return xstrdup(english ? english : "");
	for (size_t i = 0; i < sizeof phrases / sizeof *phrases; i++) {
		const char *holes[MAX_HOLES];
		size_t lens[MAX_HOLES];
		if (!match(phrases[i].en, english, holes, lens, 0))
			continue;
		const char *tr = phrase_in(&phrases[i], li);
		size_t cap = strlen(tr) + strlen(english) + 1, used = 0, k = 0;
		char *out = xmalloc(cap);
		for (const char *p = tr; *p;) {
			if (p[0] == '{' && p[1] == '}' && k < MAX_HOLES) {
				/* A hole's text is translated too when it is a known sentence ("This field {}"). */
				char *piece = xstrndup(holes[k], lens[k]);
				char *inner = i18n_sentence(lang, piece);
				size_t n = strlen(inner);
				if (used + n + strlen(p) + 1 > cap) {
					cap = used + n + strlen(p) + 1;
					out = xrealloc(out, cap);
				}
				memcpy(out + used, inner, n);
				used += n;
				free(piece);
				free(inner);
				k++;
				p += 2;
			} else {
				if (used + 2 > cap) {
					cap = cap * 2 + 2;
					out = xrealloc(out, cap);
				}
				out[used++] = *p++;
			}
		}
		out[used] = '\0';
		return out;
	}
	return xstrdup(english);
}

/* Translates every string value of problems in place. */
void i18n_problems(const char *lang, json_t *problems)
{
	if (language_index(lang) == 0 || !json_is_object(problems))
		return;
	const char *key;
	json_t *v;
	json_object_foreach(problems, key, v) {
		if (!json_is_string(v))
			continue;
		char *t = i18n_sentence(lang, json_string_value(v));
		json_string_set(v, t);
		free(t);
	}
}

/* ---- Accept-Language ---------------------------------------------------------------------------- */

/* True when range (len bytes) names tag: equal ignoring case, or equal primary subtags. Norwegian
 * "no" and Nynorsk "nn" are served Bokmål. */
static bool range_matches(const char *range, size_t len, const char *tag, bool exact)
{
	if (exact)
		return strlen(tag) == len && strncasecmp(range, tag, len) == 0;
	size_t rp = strcspn(range, "-_;, \t"), tp = strcspn(tag, "-");
	if (rp > len)
		rp = len;
	if (rp == tp && strncasecmp(range, tag, rp) == 0)
		return true;
	return tp == 2 && strncasecmp(tag, "nb", 2) == 0 && rp == 2 &&
	       (strncasecmp(range, "no", 2) == 0 || strncasecmp(range, "nn", 2) == 0);
}

/* The q-value of one range's parameters ("; q=0.5"); 1 when absent, 0 when malformed. */
static double range_q(const char *params, size_t len)
{
	const char *q = NULL;
	for (size_t i = 0; i + 1 < len; i++)
		if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=' )
			q = params + i + 2;
	if (!q)
		return 1.0;
	char *end;
	double v = strtod(q, &end);
	return end == q || v < 0 || v > 1 ? 0.0 : v;
}

/* Picks the best available language for the header: the highest q first, the earlier range on ties. */
const char *i18n_pick(const char *header, const char *const *available, size_t n)
{
	if (!header || n == 0)
		return NULL;
	const char *best = NULL;
	double best_q = 0.0;
	for (int pass = 0; pass < 2; pass++) {
		for (const char *p = header; *p;) {
			p += strspn(p, " \t,");
			size_t item = strcspn(p, ",");
			if (item == 0)
				break;
			size_t tag_len = strcspn(p, ";, \t");
			double q = range_q(p + tag_len, item - tag_len);
			for (size_t i = 0; q > best_q && i < n; i++) {
				if (available[i] && range_matches(p, tag_len, available[i], pass == 0)) {
					best = available[i];
					best_q = q;
				}
			}
			p += item;
		}
		/* An exact match at the same q wins over a primary-subtag match found later. */
		if (best && pass == 0 && best_q >= 1.0)
			break;
	}
	return best;
}

/* One of i18n_languages for the header, "en" by default. */
const char *i18n_pick_server(const char *header)
{
	const char *p = i18n_pick(header, i18n_languages, 5);
	return p ? p : "en";
}

/* The header's pick among the server's languages; when it names none of them, content_lang if the
 * server speaks it, else English. */
const char *i18n_chrome(const char *content_lang, const char *header)
{
	const char *p = i18n_pick(header, i18n_languages, 5);
	if (p)
		return p;
	for (size_t i = 0; content_lang && i18n_languages[i]; i++)
		if (strcmp(i18n_languages[i], content_lang) == 0)
			return i18n_languages[i];
	return "en";
}
