"""Language, dates and sites from text (transforms/structure.py), with the real shipped language model."""
import pytest

from flows.models import FastTextLanguageIdentifier
from transforms.structure import detect_language

MODEL = FastTextLanguageIdentifier()


@pytest.mark.parametrize("text, code", [
    ("Turkey is reportedly open to sending peacekeepers to Ukraine as part of security guarantees.", "en"),
    ("Die Türkei ist offenbar bereit, Friedenstruppen in die Ukraine zu entsenden, heißt es aus Ankara.", "de"),
    ("Turquía estaría dispuesta a enviar fuerzas de paz a Ucrania como parte de las garantías de seguridad.", "es"),
    ("Türkiye'nin güvenlik garantilerinin bir parçası olarak Ukrayna'ya barış gücü göndermeye açık olduğu bildirildi.", "tr"),
])
def test_real_model_names_the_language(text, code):
    assert detect_language(text, MODEL) == code


def test_identifier_pickles_as_its_path_and_loads_again():
    import pickle

    MODEL.predict("warm up the model")
    copy = pickle.loads(pickle.dumps(MODEL))
    assert copy == MODEL and copy._model is None and len(pickle.dumps(MODEL)) < 500
    assert detect_language("Turkey is reportedly open to sending peacekeepers to Ukraine.", copy) == "en"
