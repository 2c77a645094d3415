"""National IDs: the check digit, the mask, the keyed hash and where its key may live."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlict.access.national_id import IdKey, check_digit, masked, normalise
from dlict.core.errors import InputError
from tests.access_support import NATIONAL_ID, OTHER_ID


def test_check_digit_of_known_valid_ids() -> None:
    for valid in (NATIONAL_ID, OTHER_ID):
        assert check_digit(valid[:12]) == int(valid[12])
    assert normalise("3-5101-00123-45-7") == NATIONAL_ID


@pytest.mark.parametrize("typed", [NATIONAL_ID[:-1] + "0", "351010012345", "35101001234578",
                                   "3510100l23457", "๓๕๑๐๑๐๐๑๒๓๔๕๗", ""])
def test_refused_without_repeating_the_number(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        normalise(typed)
    assert typed == "" or typed not in str(caught.value)


def test_mask_keeps_only_the_last_three_digits() -> None:
    assert masked(NATIONAL_ID) == "x-xxxx-xxxxx-45-7"


def test_keyed_hash_needs_the_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    one = IdKey.load(tmp_path / "k1" / "id.key", data, create=True)
    two = IdKey.load(tmp_path / "k2" / "id.key", data, create=True)
    assert one.digest(NATIONAL_ID) == IdKey.load(one.path, data, create=False).digest(NATIONAL_ID)
    assert one.digest(NATIONAL_ID) != two.digest(NATIONAL_ID)
    assert one.digest(NATIONAL_ID) != one.digest(OTHER_ID)
    assert oct(one.path.stat().st_mode & 0o777) == "0o600"


def test_key_refused_in_the_data_dir_or_readable_by_others(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with pytest.raises(InputError, match="must not live in the data directory"):
        IdKey.load(data / "id.key", data, create=True)
    key = IdKey.load(tmp_path / "id.key", data, create=True)
    key.path.chmod(0o644)
    with pytest.raises(InputError, match="readable by others"):
        IdKey.load(key.path, data, create=False)
