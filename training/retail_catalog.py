"""A store's catalog from raw invoice lines: which stock codes are products,
titles in a shop's case, a list price and a product type per item.

The type is what an upgrade must share ("a step up from this key ring" is
another key ring, never a napkin ring): the head noun of the title, with the
word before it when the two name a kind of thing of their own (key ring,
lunch bag, hot water bottle), and without the themes, colours, materials and
sizes that catalogs put around it ("JUMBO BAG VINTAGE DOILY" is a jumbo bag).
An item whose title names no kind that another item shares is "other": it has
no peers, and an upgrade within "other" would be nonsense.
Checked against hand labels: training/fixtures/retail_types.tsv.
"""
import re
from collections import Counter

# Codes that are charges, fees and adjustments, not things a shopper buys.
NON_PRODUCT_CODES = {"POST", "DOT", "M", "D", "C2", "CRUK", "BANK CHARGES", "AMAZONFEE", "PADS", "S", "B"}
# The same, recognised by what the line says (gift vouchers, carriage,
# packing, samples, manual adjustments, marketplace lines).
NON_PRODUCT_TITLE = re.compile(
    r"postage|^(next day )?carriage$|packing charge|gift ?voucher|bank charges|amazon fee|^manual$|^samples?$"
    r"|^discount$|bad debt|commission|high resolution image|^ebay$|^\W*$",
    re.I)

# Words that describe an item but never name what it is.
MODIFIERS = set("""
OF AND THE IN WITH SET DESIGN ASSORTED COLOUR COLOURS SMALL LARGE MINI MEDIUM MED BIG LITTLE TALL GIANT
PINK BLUE RED GREEN WHITE BLACK IVORY CREAM GOLD SILVER PURPLE ORANGE YELLOW BROWN GREY TURQUOISE LILAC
MULTICOLOUR CHOCOLATE NATURAL ANTIQUE AMBER CLEAR
RETROSPOT POLKADOT POLKA DOT DOTS SPOT SPOTS SPOTTY STRIPE STRIPES STRIPEY CHECK GINGHAM PAISLEY FLORAL
VINTAGE RETRO NEW CLASSIC TRADITIONAL FANCY FUNKY
WOODEN WOOD METAL ZINC GLASS CERAMIC ENAMEL FELT ACRYLIC TIN PLASTIC COTTON WICKER CRYSTAL PEARL
HANGING DECORATIVE EMBROIDERED BEADED FOLDING PAINTED GLITTER AGED RIDGED BOXED ENGRAVED ETCHED FROSTED
EMBOSSED KNITTED QUILTED JEWELLED HAMMERED STAMPED ASSTD
CHRISTMAS XMAS EASTER BIRTHDAY
""".split())
# Two or three words that name one kind of thing; the longest found wins.
COMPOUNDS = [
    "HOT WATER BOTTLE", "PAPER CHAIN KIT", "FIRST AID KIT", "CUP AND SAUCER", "T-LIGHT HOLDER",
    "KEY RING", "NAPKIN RING", "WATER BOTTLE", "CUSHION COVER", "PASSPORT COVER", "FOOD COVER",
    "LUNCH BAG", "COSMETIC BAG", "JUMBO BAG", "STORAGE BAG", "TOTE BAG", "SHOPPING BAG", "SHOULDER BAG",
    "GIFT BAG", "PARTY BAG", "CHARLOTTE BAG", "BAG CHARM", "PHONE CHARM", "WALL CLOCK", "ALARM CLOCK",
    "TABLE CLOCK", "PHOTO FRAME", "CANDLE HOLDER", "SOFT TOY", "TISSUE BOX", "TRINKET BOX", "GIFT BOX",
    "LUNCH BOX", "RECIPE BOX", "LUGGAGE TAG", "CAKE CASE", "CAKE STAND", "CAKE TIN", "TRINKET POT",
    "PLANT POT", "EGG CUP", "PAPER CUP", "PAPER PLATE", "PAPER LANTERN", "STORAGE JAR", "CHOPPING BOARD",
    "SOAP DISH", "MONEY BANK", "CARD HOLDER", "DOOR HANGER", "DRAWER KNOB", "SEWING KIT", "NIGHT LIGHT",
    "COAT RACK", "TEA TOWEL", "OVEN GLOVE", "HAND WARMER", "BIRD FEEDER", "BIRD HOUSE", "TEA COSY",
    "MILK JUG", "WALL ART", "DOG BOWL", "PIN CUSHION", "KNEELING PAD", "KNEELING MAT", "KITCHEN SCALES",
    "BATHROOM SCALES", "PLACE SETTING", "PLAYING CARDS", "CARD GAME", "SUGAR BOWL", "HAIR SLIDE",
    "HAIR CLIP", "HAIR COMB", "TRAY TABLE", "WASH BAG", "STICKER SHEET", "ARTIFICIAL FLOWER",
    "HAIR GRIP", "HAIR BAND", "ROCKING HORSE", "WATERING CAN", "SHOWER CAP", "LIP GLOSS", "DOG COLLAR",
    "FLY SWAT", "BREAD BIN",
]
# Nouns that name a thing a shop sells (singular), from the catalog's most
# frequent title endings.
THINGS = set("""
HOLDER BOX COVER BAG DECORATION NECKLACE SIGN MUG BRACELET BOWL RING CANDLE EARRING CHARM CARD CLOCK FRAME
BOTTLE CASE GARLAND MIRROR HOOK KIT TRAY STICKER NOTEBOOK PLATE TISSUE WRAP MAGNET CUP STAND CABINET PURSE
JAR BASKET HANGER BUNTING DISH TAPE TOY POT LETTER TIN T-LIGHT BELL CUTLERY BALL PARASOL HANDBAG LIGHT
SAUCER RACK LAMPSHADE CURTAIN BEAKER RIBBON DOORSTOP NAPKIN LAMP SKETCHBOOK BEAD THERMOMETER UMBRELLA
BUCKET APRON TUBE WREATH ORGANISER CONTAINER BOOK COASTER LANTERN DOLL SHEET KNOB STICK JUG MATCHES PEN
INCENSE JOURNAL PATCH CANDLESTICK COMB FAN MOBILE COSY BANK PLACEMAT BALLOON TIDY STRAW FLANNEL CLIP
TASSEL CHAIR SPOON DRAWER WINDMILL BOARD GAME TOADSTOOL LID SPONGE BANGLE WARMER SCALES RULER ALBUM
ASHTRAY SCREEN BACKPACK CHALKBOARD CHEST CUTTER ERASER MARBLE BAUBLE CADDY GLOVE SCISSORS DOORMAT TEAPOT
QUILT DESK BRUSH PENCIL TEDDY JIGSAW EGG PAD MAT CUSHION TOWEL PEG PLAQUE VASE DOILY BLANKET SLIPPER TOOL
TILE TABLE PAN PICTURE SLATE BIN MOULD SPOON MARKER CALENDAR BLOCK SHELF BROOCH STAMP STOCKING PAPERWEIGHT
INVITE BADGE ENVELOPE PLANTER STOOL PLAYHOUSE STENCIL POSTCARD TUMBLER BIB HAMPER BLACKBOARD
DISPENSER BURNER LADLE
""".split())
# Motifs that are sometimes the item and often its theme: chosen only when
# the title names no thing.
MOTIFS = set("""
HEART STAR FLOWER BIRD ANGEL ROSE BUTTERFLY OWL SKULL APPLE CHICK RABBIT BUNNY REINDEER SANTA SNOWFLAKE
GNOME DINOSAUR CHICKEN DUCK TREE HOUSE LEAF
""".split())
# Spellings folded before matching.
SPELLINGS = {"CAKESTAND": "CAKE STAND", "KEYRING": "KEY RING", "WASHBAG": "WASH BAG", "DOILEY": "DOILY",
             "NECKLAC": "NECKLACE", "NECKL": "NECKLACE", "CANDLEHOLDER": "CANDLE HOLDER", "&": "AND", "W": "WITH",
             "ART FLOWER": "ARTIFICIAL FLOWER", "HAIR CLIPS": "HAIR CLIP", "HAIRCLIP": "HAIR CLIP",
             "HAIRCLIPS": "HAIR CLIP", "HAIRSLIDE": "HAIR SLIDE", "HAIRBAND": "HAIR BAND", "HAIRBANDS": "HAIR BAND",
             "TEALIGHT": "T-LIGHT", "TEACUP": "TEA CUP", "HLDR": "HOLDER", "PHOTOFRAME": "PHOTO FRAME",
             "FRUITBOWL": "FRUIT BOWL", "DRAWERKNOB": "DRAWER KNOB", "P'WEIGHT": "PAPERWEIGHT",
             "TOASTRACK": "TOAST RACK", "DOORSIGN": "DOOR SIGN", "WINDCHIME": "WIND CHIME",
             "CHOCOLATECANDLE": "CHOCOLATE CANDLE", "MEMOBOARD": "MEMO BOARD", "BRACLET": "BRACELET",
             "TABLE CLOTH": "TABLECLOTH", "SCISSOR": "SCISSORS", "OVEN MITT": "OVEN GLOVE", "WRAPPING PAPER": "WRAP"}
# Where a title's head phrase ends: "CANDLE IN JEWELLED BOX", "GARLAND WITH BELLS".
BREAKS = {"IN", "WITH", "ON", "OR", "FOR", "AND", "+"}
# Words kept as they are though they end in S: things named in the plural
# (a pair, a set) and words that are no plurals.
PLURAL_NOUNS = {"SCALES", "SCISSORS", "GLASSES", "SUNGLASSES", "TONGS", "CHRISTMAS", "XMAS", "CANVAS"}
HEAD_PRIOR = 3
# Words that open a theme when they follow the thing ('... TRAY VINTAGE DOILY').
STYLES = {"VINTAGE", "RETRO", "RETROSPOT", "POLKADOT", "PAISLEY", "GINGHAM", "FLORAL", "SPOTTY", "STRIPEY"}
# Things named by what they hold: the word before joins ('POPCORN HOLDER').
HOLDERS = {"HOLDER", "RACK", "STAND"}
# What a t-light holder is made of, never a t-light itself.
HOLDER_MATERIALS = {"GLASS", "METAL", "ZINC", "TIN", "CERAMIC", "ENAMEL", "WIRE"}
# The type of an item whose title names no kind that another item shares.
OTHER = "other"
LEADING = {"SET", "OF", "PACK", "PAIR", "ROLL", "BOX", "ASS", "DES", "ASSORTED"}

SMALL_WORDS = {"of", "and", "the", "in", "with", "for", "on", "or", "a", "to", "w"}
ACRONYMS = {"LED", "USB", "UK", "TV", "DVD", "CD", "USA", "NYC", "PVC", "DIY"}
UNIT = re.compile(r"[\d.,x/]*\d[\d.,x/]*(cm|mm|m|g|kg|ml|l|s)?", re.I)


def is_product(code: str, title: str) -> bool:
    return code not in NON_PRODUCT_CODES and not code.startswith("GIFT_") and not NON_PRODUCT_TITLE.search(title.strip())


def list_prices(lines) -> tuple:
    """({code: list price}, ratio) from invoice lines (StockCode, UnitPrice,
    CustomerID): the most common price on lines with a customer account, as
    lines without one are a retail channel priced about twice as high (ratio:
    the median over items sold both ways) that would pull a median up. An item
    sold only that way gets its retail price over the ratio."""
    account = lines.CustomerID.notna()
    listed, retail = modal_prices(lines[account]), modal_prices(lines[~account])
    both = listed.index.intersection(retail.index)
    ratio = float((retail[both] / listed[both]).median())
    only_retail = retail.index.difference(listed.index)
    return {**listed.to_dict(), **(retail[only_retail] / ratio).to_dict()}, ratio


def modal_prices(lines):
    """The most common unit price per stock code, the lower of ties."""
    return lines.groupby("StockCode").UnitPrice.agg(lambda p: p.round(2).mode().min())


def title_case(title: str) -> str:
    """'CHILDREN'S SPACEBOY MUG' -> "Children's Spaceboy Mug": each word's first
    letter up, the rest down ('T-Light', 'Set/6', '45x45cm'), small joining
    words and units down, acronyms kept."""
    words = title.strip().lstrip("*").split()
    out = []
    for i, w in enumerate(words):
        if w.upper() in ACRONYMS:
            out.append(w.upper())
        elif UNIT.fullmatch(w) or (i and w.lower() in SMALL_WORDS):
            out.append(w.lower())
        else:
            out.append(re.sub(r"(^|[-/\"(])([a-z])", lambda m: m.group(1) + m.group(2).upper(), w.lower()))
    return " ".join(out)


def words_of(title: str) -> list:
    """The title's words, upper case, spellings folded, numbers and units out,
    and no theme named as one ('WRAP DOILEY DESIGN' is a wrap)."""
    text = " " + re.sub(r"[/,\"()]", " ", title.upper()).replace("+", " + ") + " "
    for old, new in SPELLINGS.items():
        text = text.replace(f" {old} ", f" {new} ")
    words = [last_part(w) for w in text.split() if not UNIT.fullmatch(w) and re.fullmatch(r"[A-Z+][A-Z'\-]*", w)]
    words = [w for i, w in enumerate(words) if words[i + 1:i + 2] not in (["DESIGN"], ["DESIGNS"])] or words
    while words and words[0] in LEADING and len(words) > 1:
        words = words[1:]
    return words


def last_part(word: str) -> str:
    """A hyphenated word that ends in a thing is that thing ('UBO-LIGHT')."""
    part = word.rsplit("-", 1)[-1]
    return part if singular(word) not in THINGS and singular(part) in THINGS else word


def singular(word: str) -> str:
    if word in PLURAL_NOUNS or len(word) < 4 or word.endswith(("SS", "'S", "US", "IS")):
        return word
    if word.endswith("IES"):
        return word[:-3] + "Y"
    if word.endswith(("XES", "CHES", "SHES", "SSES")):
        return word[:-2]
    return word[:-1] if word.endswith("S") else word


def head_phrase(words: list) -> list:
    """The words before the first break ('CANDLE IN JEWELLED BOX' -> CANDLE), when
    one of them names a thing ('I'M ON HOLIDAY METAL SIGN' is not cut) and the
    break is not inside a compound ('CUP AND SAUCER')."""
    for i, w in enumerate(words):
        if w in BREAKS and not in_compound(words, i) and any(singular(x) in THINGS | MOTIFS for x in words[:i]):
            return words[:i]
    return words


def in_compound(words: list, i: int) -> bool:
    """Whether the word at i is inside a compound ('AND' in 'CUP AND SAUCER')."""
    folded = [singular(w) for w in words]
    return any(" ".join(folded[j:j + size]) in COMPOUND_NAMES
               for size in (3, 2) for j in range(max(0, i - size + 1), i + 1))


def headness(titles) -> Counter:
    """How often each word ends a title's head phrase, over how often it appears:
    catalogs end the phrase with the thing ('... T-LIGHT HOLDER') and put themes
    after it only now and then, so the share tells nouns of things from themes."""
    last, seen = Counter(), Counter()
    for t in titles:
        words = [singular(w) for w in head_phrase(words_of(t)) if w not in MODIFIERS]
        seen.update(set(words))
        if words:
            last[words[-1]] += 1
    # Shrunk toward 0 by HEAD_PRIOR sightings: a word seen once proves nothing.
    return Counter({w: last[w] / (seen[w] + HEAD_PRIOR) for w in seen})


def named_type(folded: list) -> str:
    """The kind the title names, lower case: a compound when it holds one, else
    its noun of a thing, else a glass ('WINE GLASS'), else its rightmost motif
    (a heart, a star, which can be the item); '' when it names none."""
    for size in (3, 2):
        for i in range(len(folded) - size, -1, -1):
            phrase = " ".join(folded[i:i + size])
            if phrase in COMPOUND_NAMES:
                return COMPOUND_NAMES[phrase]
    things = [i for i, w in enumerate(folded) if w in THINGS]
    if things:
        return thing_name(folded, head_thing(folded, things))
    # Materials come before the thing, so one that ends the title is the thing.
    if [w for w in folded if w == "GLASS" or w not in MODIFIERS][-1:] == ["GLASS"]:
        return "glass"
    motifs = [w for w in folded if w in MOTIFS]
    return motifs[-1].lower() if motifs else ""


def head_thing(folded: list, things: list) -> int:
    """The rightmost thing before the themes: one that comes after a style
    word following a thing is a theme ('SNACK TRAY RED VINTAGE DOILY')."""
    head = things[0]
    for i in things[1:]:
        if any(w in STYLES for w in folded[head + 1:i]):
            break
        head = i
    return head


def thing_name(folded: list, i: int) -> str:
    """The thing at i, with what it holds when it is a holder ('LETTER RACK'):
    a soap holder is no upgrade for a popcorn holder."""
    word, before = folded[i], folded[i - 1] if i else "+"
    if word == "T-LIGHT" and HOLDER_MATERIALS & set(folded):
        return "t-light holder"  # a t-light of glass or metal is what holds one
    if word in HOLDERS and before not in MODIFIERS | MOTIFS | {"+"}:
        return f"{before} {word}".lower()
    return word.lower()


def guessed_type(folded: list, heads: Counter) -> str:
    """For a title that names no known thing: a kind of set ('BATHROOM SET'),
    else the word that most often ends titles; '' when it has no noun."""
    sets = [i for i, w in enumerate(folded) if w == "SET" and i and folded[i - 1] not in MODIFIERS | {"+"}]
    if sets:
        return f"{folded[sets[0] - 1]} set".lower()
    nouns = [w for w in folded if w not in MODIFIERS and w != "+"]
    if not nouns:
        return ""
    best = max(range(len(nouns)), key=lambda i: (round(heads.get(nouns[i], 0.0), 2), i))
    return nouns[best].lower()


# Each compound by its singular words, named as listed.
COMPOUND_NAMES = {" ".join(singular(w) for w in c.split()): c.lower() for c in COMPOUNDS}


def product_types(titles: dict) -> dict:
    """{code: type} for {code: title}, with headness learned from these titles.
    A guessed type that no other item has is most often a theme or a stray
    word ('TIER', 'CHOICE'), so that item is OTHER instead: it has no peers."""
    heads = headness(titles.values())
    folded = {code: [singular(w) for w in head_phrase(words_of(t))] for code, t in titles.items()}
    named = {code: named_type(f) for code, f in folded.items()}
    guessed = {code: guessed_type(f, heads) for code, f in folded.items() if not named[code]}
    shared = Counter(named.values()) + Counter(guessed.values())
    return {code: named[code] or (guessed[code] if guessed[code] and shared[guessed[code]] > 1 else OTHER)
            for code in titles}
