"""edgerec's own catalog.jsonl (schema/catalog.schema.json), as the importers
write it: a catalog imported once can be given again, edited or merged."""
from edgerec_train import values
from edgerec_train.canonical import Product, clean_id
from edgerec_train.errors import ImportProblem
from edgerec_train.formats.common import text
from edgerec_train.located import json_lines


def is_catalog_line(obj):
    return "id" in obj and "title" in obj and "event" not in obj and "event_name" not in obj


def read(path, catalog, tally):
    for line, obj in json_lines(path):
        pid = clean_id(text(obj.get("id")))
        if not pid:
            tally.drop("catalog lines without an id", f"{path}:{line}")
            continue
        prices = []
        for key in ("price", "sale_price"):
            try:
                prices.append(values.price(text(obj.get(key)))[0])
            except ValueError as e:
                raise ImportProblem("BAD_NUMBER", path, f"{key}: {e}", line=line)
        variants = [clean_id(text(v)) for v in obj.get("variants") or [] if text(v)]
        catalog.add(Product(pid, title=text(obj.get("title")), category=text(obj.get("category")),
                            brand=text(obj.get("brand")), price=prices[0], sale_price=prices[1],
                            in_stock=obj.get("in_stock", True) is not False, url=text(obj.get("url")),
                            image=text(obj.get("image")), description=text(obj.get("description")),
                            variants=variants))
        tally.keep("products")
