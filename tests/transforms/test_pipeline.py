"""The cleaning steps' order (transforms/pipeline.py) and the one place quarantine stops them."""
from dataclasses import replace

from flows.seeds import load_references
from transforms.pipeline import STEPS, StepInputs, clean_document, decode_document, run_steps
from transforms.records import RawDocument

REFS = load_references(None)


def test_steps_run_in_this_order():
    # Language is detected on the stripped body; names are normalized last, on the final body.
    assert [name for name, _ in STEPS] == ["strip chrome", "detect language", "normalize names"]


def test_language_is_detected_on_the_stripped_body_not_the_chrome():
    chrome = "\n".join(["Startseite | Politik | Wirtschaft | Sport | Kultur"] * 3 + ["Werbung", "Anmelden"])
    body = ("The city council approved the new budget on Monday after a debate that lasted most of the night. "
            "Officials said the plan would fund schools, roads and the public library for another two years.")
    article = clean_document(RawDocument(source_uri="in/site/a.txt", raw=f"{chrome}\n\n{body}\n".encode()),
                             StepInputs(REFS))
    assert article.language == "en"
    assert "Startseite" not in article.body


def test_names_are_normalized_on_the_final_body():
    text = ("Turkish President Recep Tayyip Erdoğan met officials in Ankara on Monday to discuss the grain deal "
            "and the future of the talks, his office said in a statement released after the meeting.\n")
    article = clean_document(RawDocument(source_uri="in/site/a.txt", raw=text.encode()), StepInputs(REFS))
    assert "Erdogan" in article.body_normalized and "Erdoğan" in article.body


def test_a_quarantined_article_stops_the_steps():
    calls = []

    def quarantine(article, inputs):
        calls.append("quarantine")
        return replace(article, quarantine_stage="clean", quarantine_reasons=("test_reason",))

    def never(article, inputs):
        calls.append("never")
        return article

    article = decode_document(RawDocument(source_uri="in/a.txt", raw=b"Some text of an article.\n"))
    result = run_steps(article, StepInputs(REFS), steps=(("first", quarantine), ("second", never)))
    assert calls == ["quarantine"] and result.quarantine_reasons == ("test_reason",)


def test_an_input_quarantined_while_decoding_goes_through_no_step():
    article = clean_document(RawDocument(source_uri="in/a.txt", raw=b"", read_error="too_large"), StepInputs(REFS))
    assert article.quarantine_reasons == ("too_large",) and article.body == ""
