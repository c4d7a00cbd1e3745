"""Turn a publication into its RIXML control file: the metadata aggregators and terminals read.

The document follows the RIXML 2.x research schema (namespace http://www.rixml.org/2017/9/RIXML),
its elements in the schema's order: Research > Product > StatusInfo, Source (the house and its
analysts), Content (title, abstract, the PDF as a Resource), Context (the companies the note
covers as issuers with their exchange tickers: the sector's Sector.issuers; the product details,
equity / US classification). The research ID is the
same for every version of one as-of date; the product ID names the version. The schema files
themselves are not shipped (their notice forbids it): tests validate against them when
BRIEFGEN_RIXML_XSD names a local copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    # The element type for annotations only: lxml's API reference names the class etree._Element
    # (what etree.Element() returns) and offers no public alias; no code touches it at run time.
    from lxml.etree import _Element as Element

NAMESPACE = "http://www.rixml.org/2017/9/RIXML"
SIDECAR = "brief.rixml.xml"
STATUS = {"published": "Published", "revised": "Revised", "recalled": "Recalled"}
# ISO 10383 market identifier codes of the US exchanges an issuer's `exchange` may name
MIC = {
    "NASDAQ": "XNAS",
    "NYSE": "XNYS",
    "NYSE AMERICAN": "XASE",
    "NYSEAMERICAN": "XASE",
    "AMEX": "XASE",
    "CBOE": "BATS",
    "OTC": "OTCM",
}


@dataclass(frozen=True)
class RixmlFacts:
    """What the control file says: the brief's facts (from the build) and the publication's."""

    as_of: date
    version: int
    status: str  # published, revised, recalled
    status_time: str  # UTC, ISO 8601 with Z: when it was published (or recalled)
    published_at: str
    house: str
    series: str
    title: str
    takeaways: Sequence[str]
    analysts: Sequence[Mapping[str, str]]
    issuers: Sequence[Mapping[str, str]]
    pdf_name: str
    pdf_size: int
    pages: int | None = None


def research_id(house: str, series: str, as_of: date) -> str:
    """Stable across the versions of one note: the house, the series and the as-of date."""
    tag = hashlib.sha256(f"{house}\n{series}".encode()).hexdigest()[:10]
    return f"briefgen-{tag}-{as_of.isoformat()}"


def _el(parent: Element, name: str, text: str | None = None, **attributes: str | None) -> Element:
    """A child element `name` of parent, with its text and the attributes that are not None."""
    node = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}", {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        node.text = text
    return node


def _split_name(full: str) -> tuple[str, str | None]:
    parts = full.split()
    if len(parts) < 2:
        return full, None
    return parts[-1], " ".join(parts[:-1])


def rixml_document(facts: RixmlFacts) -> bytes:
    """The control file's bytes (UTF-8, with an XML declaration), deterministic for the same facts."""
    rid = research_id(facts.house, facts.series, facts.as_of)
    root = etree.Element(f"{{{NAMESPACE}}}Research", nsmap={None: NAMESPACE})
    root.set("researchID", rid)
    root.set("createDateTime", facts.published_at)
    root.set("language", "eng")
    product = _el(root, "Product", productID=f"{rid}-v{facts.version}")
    status = _el(
        product,
        "StatusInfo",
        statusType=STATUS[facts.status],
        statusDateTime=facts.status_time,
        currentStatusIndicator="Yes",
    )
    _el(status, "Version", str(facts.version))

    source = _el(product, "Source")
    house = _el(source, "Organization", primaryIndicator="Yes", type="SellSideFirm")
    _el(house, "OrganizationName", facts.house, nameType="Display")
    if facts.analysts:
        group = _el(house, "PersonGroup", role="Author")
        for number, analyst in enumerate(facts.analysts, start=1):
            member = _el(
                group,
                "PersonGroupMember",
                sequence=str(number),
                primaryIndicator="Yes" if number == 1 else "No",
                role="Author",
            )
            person_id = hashlib.sha256(analyst["name"].encode()).hexdigest()[:12]
            person = _el(member, "Person", personID=f"analyst-{person_id}")
            family, given = _split_name(analyst["name"])
            _el(person, "FamilyName", family)
            if given:
                _el(person, "GivenName", given)
            _el(person, "DisplayName", analyst["name"])
            _el(person, "JobTitle", "Research analyst")
            if analyst.get("email") or _phone(analyst.get("phone") or "")[1]:
                contact = _el(person, "ContactInfo", nature="Business")
                if analyst.get("email"):
                    _el(contact, "Email", analyst["email"])
                country, local = _phone(analyst.get("phone") or "")
                if local:
                    phone = _el(contact, "Phone", type="Voice")
                    _el(phone, "CountryCode", country)
                    _el(phone, "Number", local)

    content = _el(product, "Content")
    _el(content, "Title", facts.title)
    if facts.takeaways:
        _el(content, "Abstract", "\n".join(f"- {item}" for item in facts.takeaways))
    resource = _el(
        content, "Resource", resourceID="pdf", language="eng", sizeInBytes=str(facts.pdf_size), primaryIndicator="Yes"
    )
    if facts.pages:
        _el(resource, "Length", str(facts.pages), lengthUnit="Pages")
    _el(resource, "MIMEType", "application/pdf")
    _el(resource, "Name", facts.pdf_name)

    context = _el(product, "Context", external="Yes")
    if facts.issuers:
        details = _el(context, "IssuerDetails")
        for number, issuer in enumerate(facts.issuers, start=1):
            node = _el(
                details,
                "Issuer",
                issuerType="Corporate",
                domicileCountryCode=None,
                sequence=str(number),
                primaryIndicator="No",
            )
            securities = _el(node, "SecurityDetails")
            security = _el(securities, "Security", primaryIndicator="Yes")
            mic = MIC.get((issuer.get("exchange") or "").upper())
            sid = _el(
                security, "SecurityID", idType="ExchangeTicker", idValue=issuer["ticker"], tradingCountryCode="US"
            )
            if issuer.get("exchange"):
                _el(sid, "TradingExchange", issuer["exchange"], tradingExchangeCode=mic)
            _el(security, "SecurityName", issuer.get("name") or issuer["ticker"])
            _el(security, "AssetClass", assetClass="Equity")
            _el(security, "AssetType", assetType="Stock")
            _el(node, "IssuerName", nameType="Legal").append(
                _named("NameValue", issuer.get("name") or issuer["ticker"])
            )
    details = _el(context, "ProductDetails", publicationDateTime=facts.published_at, periodicalIndicator="Yes")
    _el(details, "ProductCategory", productCategory="Report")
    _el(details, "ProductFocus", focus="SectorIndustry", primaryIndicator="Yes")
    series = _el(details, "ProductSeries")
    _el(series, "SeriesName", facts.series)
    classes = _el(context, "ProductClassifications")
    _el(classes, "Country", code="US", primaryIndicator="Yes")
    _el(classes, "AssetClass", assetClass="Equity")
    _el(classes, "AssetType", assetType="Stock")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _named(name: str, text: str) -> Element:
    node = etree.Element(f"{{{NAMESPACE}}}{name}")
    node.text = text
    return node


def _phone(text: str) -> tuple[str, str]:
    """'+1 212 555 0142' -> ('1', '212 555 0142'); a number without its +country code is left out ('', '')."""
    parts = text.split(None, 1)
    if len(parts) == 2 and parts[0].startswith("+") and parts[0][1:].isdigit():
        return parts[0][1:], parts[1]
    return "", ""


def restatus(document: bytes, status: str, when: str) -> bytes:
    """The control file with its product's status changed (to Recalled, say) as of `when`; all else kept."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    info = root.find(f"{{{NAMESPACE}}}Product/{{{NAMESPACE}}}StatusInfo")
    if info is None:
        raise ValueError("not a RIXML research document: no Product/StatusInfo")
    info.set("statusType", STATUS[status])
    info.set("statusDateTime", when)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
