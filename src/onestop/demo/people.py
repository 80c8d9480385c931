"""Demo people: names from small lists, national IDs of the right shape, phones.

Pure Python (no Django). Nobody here is a real person: a name is a common first name and
a common surname picked by a hash, and a national ID is built from a birth date and a
serial that no registry issued. The shape of the ID (12 digits in Kazakhstan, 14 in
Uzbekistan) comes from the pack's e-forms, not from the code.

A population is a fixed, numbered list of citizens for a country: citizen `i` is the same
person in every run (whatever the seed), so the demo accounts created for them can be
reused by the next run.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import NamedTuple

from onestop.demo.forms import pattern_value

# First names (male, female) and surnames (male form) by language. Common names only.
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "kk": (
        ("Нұрлан", "Ерлан", "Асқар", "Дәурен", "Бауыржан", "Ержан", "Айдос", "Данияр",
         "Арман", "Қайрат", "Мұрат", "Серік", "Тимур", "Әлихан", "Ақжол", "Жандос",
         "Бекзат", "Олжас", "Ерасыл", "Нұрбол"),
        ("Айгүл", "Гүлнара", "Әйгерім", "Жанар", "Динара", "Мадина", "Аружан", "Назерке",
         "Салтанат", "Ләззат", "Сәуле", "Ақмарал", "Балжан", "Гүлмира", "Индира", "Жұлдыз",
         "Анар", "Камила", "Томирис", "Дана"),
        ("Ахметов", "Жұмабаев", "Сейітов", "Оспанов", "Нұрланов", "Қасымов", "Тоқтаров",
         "Бекмұратов", "Әбенов", "Ысқақов", "Сұлтанов", "Серікбаев", "Иманбаев", "Төлеуов",
         "Ибраев", "Құрманов", "Сәрсенбаев", "Байжанов", "Есенов", "Омаров"),
    ),
    "uz": (
        ("Aziz", "Bekzod", "Dilshod", "Jasur", "Javlon", "Sardor", "Sherzod", "Otabek",
         "Rustam", "Farrux", "Anvar", "Doniyor", "Sanjar", "Jamshid", "Akmal", "Islom",
         "Timur", "Bobur", "Murod", "Ulug'bek"),
        ("Dilnoza", "Gulnora", "Malika", "Madina", "Nigora", "Shahnoza", "Zarina", "Kamola",
         "Sevara", "Feruza", "Nilufar", "Mohira", "Laylo", "Munisa", "Dildora", "Zilola",
         "Gulchehra", "Sabina", "Yulduz", "Barno"),
        ("Karimov", "Rahimov", "Yusupov", "Tursunov", "Aliyev", "Ismoilov", "Abdullayev",
         "Xolmatov", "Qodirov", "Ergashev", "Saidov", "Nazarov", "Mirzayev", "Sobirov",
         "Umarov", "Haydarov", "Usmonov", "Rashidov", "Sultonov", "Normatov"),
    ),
    "ru": (
        ("Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Евгений", "Максим",
         "Владимир", "Игорь", "Николай", "Павел", "Роман", "Виктор", "Олег", "Артём",
         "Михаил", "Денис", "Константин", "Антон", "Илья"),
        ("Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Мария",
         "Екатерина", "Юлия", "Анастасия", "Людмила", "Галина", "Марина", "Оксана",
         "Виктория", "Дарья", "Алина", "Ксения", "Вера"),
        ("Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов",
         "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев",
         "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев"),
    ),
}
# Patronymic endings (male, female) by language.
_PATRONYMIC = {"kk": ("ұлы", "қызы"), "uz": (" o'g'li", " qizi")}
_RU_PATRONYMICS = (
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"),
    ("Андреевич", "Андреевна"), ("Дмитриевич", "Дмитриевна"), ("Алексеевич", "Алексеевна"),
    ("Владимирович", "Владимировна"), ("Игоревич", "Игоревна"), ("Николаевич", "Николаевна"),
    ("Павлович", "Павловна"), ("Викторович", "Викторовна"),
)
# The share of a Kazakh-language population given Russian names.
_RUSSIAN_SHARE_KK = 0.2


def _female_surname(surname: str, language: str) -> str:
    if language == "uz":
        return surname + "a" if surname.endswith(("ov", "ev")) else surname
    if surname.endswith(("ов", "ев", "ин", "ёв")):
        return surname + "а"
    return surname


def name_lists(language: str) -> str:
    """The name list used for a language: its own, or Russian."""
    return language if language in _NAMES else "ru"


def full_name(language: str, female: bool, a: int, b: int, c: int) -> str:
    """`Surname Firstname Patronymic` from three list positions (any integers)."""
    lists = name_lists(language)
    if lists == "kk" and (c % 100) < _RUSSIAN_SHARE_KK * 100:
        lists = "ru"
    males, females, surnames = _NAMES[lists]
    first = (females if female else males)[a % 20]
    surname = surnames[b % 20]
    if female:
        surname = _female_surname(surname, lists)
    patronymic = patronymic_of(lists, female, c)
    return f"{surname} {first} {patronymic}"


def first_name(language: str, female: bool, a: int) -> str:
    males, females, _ = _NAMES[name_lists(language)]
    return (females if female else males)[a % 20]


def surname_of(language: str, female: bool, b: int) -> str:
    lists = name_lists(language)
    surname = _NAMES[lists][2][b % 20]
    return _female_surname(surname, lists) if female else surname


def patronymic_of(language: str, female: bool, c: int) -> str:
    lists = name_lists(language)
    if lists == "ru":
        return _RU_PATRONYMICS[(c // 100) % len(_RU_PATRONYMICS)][1 if female else 0]
    father = _NAMES[lists][0][(c // 100) % 20]
    return father + _PATRONYMIC[lists][1 if female else 0]


# --- national IDs ------------------------------------------------------------------

_DIGIT = {str(d): d for d in range(10)}
_PINFL_WEIGHTS = (7, 3, 1) * 5


def iin_check_digit(first11: str) -> int | None:
    """Kazakhstan's IIN control digit (None: no valid digit, such an IIN is not issued)."""
    d = [_DIGIT[ch] for ch in first11]
    total = (d[0] + 2 * d[1] + 3 * d[2] + 4 * d[3] + 5 * d[4] + 6 * d[5] + 7 * d[6]
             + 8 * d[7] + 9 * d[8] + 10 * d[9] + 11 * d[10]) % 11
    if total == 10:
        total = (3 * d[0] + 4 * d[1] + 5 * d[2] + 6 * d[3] + 7 * d[4] + 8 * d[5] + 9 * d[6]
                 + 10 * d[7] + 11 * d[8] + d[9] + 2 * d[10]) % 11
    return None if total == 10 else total


def pinfl_check_digit(first13: str) -> int:
    """The control digit of a 14-digit personal number (weights 7, 3, 1)."""
    return sum(int(ch) * w for ch, w in zip(first13, _PINFL_WEIGHTS, strict=False)) % 10


def _century_digit(birth: date, female: bool) -> int:
    base = 1 if birth.year < 1900 else 3 if birth.year < 2000 else 5
    return base + (1 if female else 0)


def national_id(length: int, birth: date, female: bool, serial: int) -> str:
    """A national ID of `length` digits for a person born on `birth`.

    12 digits: the IIN layout (YYMMDD, century and sex, 4-digit serial, control digit);
    14 digits: the personal-number layout (century and sex, DDMMYY, 6-digit code and
    serial, control digit); any other length: the serial, zero-padded. `serial` below
    5,000 (12 digits) or 500,000 (14 digits) gives a valid control digit and distinct IDs
    for distinct (birth, serial).
    """
    sex = _century_digit(birth, female)
    if length == 12:
        for attempt in (serial % 5000, serial % 5000 + 5000):
            first11 = f"{birth:%y%m%d}{sex}{attempt:04d}"
            check = iin_check_digit(first11)
            if check is not None:
                return first11 + str(check)
        return f"{birth:%y%m%d}{sex}{serial % 10000:04d}0"
    if length == 14:
        first13 = f"{sex}{birth:%d%m%y}{serial % 1_000_000:06d}"
        return first13 + str(pinfl_check_digit(first13))
    return f"{serial:0{length}d}"[-length:]


class _Digits:
    """Draws from the digits of one big number: a cheap, deterministic source for the few
    choices a phone number needs (the `random.Random` methods `pattern_value` calls)."""

    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number

    def randrange(self, stop: int) -> int:
        self.number, digit = divmod(self.number, stop)
        return digit

    def randint(self, low: int, high: int) -> int:
        return low + self.randrange(high - low + 1)

    def choices(self, population: str, k: int) -> list[str]:
        size = len(population)
        out = []
        for _ in range(k):
            self.number, digit = divmod(self.number, size)
            out.append(population[digit])
        return out


class Person(NamedTuple):
    number: int  # in the population (negative: an existing account joining the history)
    national_id: str
    name: str
    female: bool
    birth: date
    phone: str
    email: str
    has_account: bool


_FIRST_BIRTH = date(1946, 1, 1)
_BIRTH_DAYS = 22_600  # adults born 1946-2007
_PERMUTE = 1_000_003  # a prime: i -> (i * _PERMUTE + offset) mod M is a bijection


class Population:
    """Citizens numbered 0..size-1, each the same person in every run for this key.

    `key` is the country code; `id_length` the digits of its national ID; `phone_pattern`
    the e-form pattern of a phone number. A share `account_share` of citizens have an
    account on the portal.
    """

    def __init__(
        self,
        key: str,
        size: int,
        *,
        id_length: int,
        language: str,
        phone_pattern: str | None,
        account_share: float,
    ) -> None:
        self.key = key
        self.size = size
        self.id_length = id_length
        self.language = language
        self.phone_pattern = phone_pattern
        self.account_share = account_share
        serials = 5000 if id_length == 12 else 500_000 if id_length == 14 else 10**6
        self._space = _BIRTH_DAYS * serials
        self._serials = serials
        self._offset = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest())
        self._account_cut = int(account_share * 65536)

    def _digest(self, index: int) -> bytes:
        return hashlib.blake2b(f"{self.key}:{index}".encode(), digest_size=16).digest()

    def has_account(self, index: int) -> bool:
        digest = self._digest(index)
        return (digest[0] << 8 | digest[1]) < self._account_cut

    def username(self, index: int) -> str:
        return f"{self.key}-demo-citizen-{index:07d}"

    def person(self, index: int) -> Person:
        digest = self._digest(index)
        position = (index * _PERMUTE + self._offset) % self._space
        birth = _FIRST_BIRTH + timedelta(days=position // self._serials)
        female = bool(digest[2] & 1)
        national = national_id(self.id_length, birth, female, position % self._serials)
        name = full_name(self.language, female, digest[3], digest[4], digest[5] << 8 | digest[6])
        phone = pattern_value(self.phone_pattern, _Digits(int.from_bytes(digest[8:16]))) \
            if self.phone_pattern else ""
        has_account = (digest[0] << 8 | digest[1]) < self._account_cut
        email = f"demo.{self.key}.{index}@example.org" if has_account and digest[7] < 160 else ""
        return Person(index, national, name, female, birth, phone, email, has_account)
