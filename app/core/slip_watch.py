"""When a person followed from their keypoints needs the detector again: their crop has slipped.

Between detector runs each person's crop is cut around their keypoints on the previous frame. When the crop
slides off the person their keypoint scores fall, or their pose is lost altogether, and only the detector can
find them again. A person who is simply hard to see (far, blurred, half hidden) scores low on every frame,
detected or not, and a person who has left is missing on every frame: re-detecting them costs a whole
detector run per frame and changes nothing. So a person has slipped only

- when their mean keypoint score is below the re-detect threshold *and* at least :data:`SCORE_FALL` below
  the score they had on the last frame the detector boxed them (for a newcomer taken in between, their
  first frame), or
- when their track matches no pose on a frame posed from followed boxes, having matched one on the frame
  before (a track the detector could not find either is not searched for again until the next scheduled
  detection).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SCORE_FALL = 0.05
"""How far (mean keypoint score, 0..1) a person's score must fall below their detector-frame score to count
as slipped; smaller falls are taken for frame-to-frame noise (a chosen margin, not a measured one)."""


class SlipWatch:
    """Remembers each track's mean keypoint score on its last detector frame and tells when one has fallen.

    Args:
        fall: see :data:`SCORE_FALL`.
    """

    def __init__(self, fall: float = SCORE_FALL) -> None:
        self.fall = fall
        self._anchors: dict[int, float] = {}
        self._lost: set[int] = set()

    def slipped(
        self, track_ids: np.ndarray, mean_scores: np.ndarray, lost: Iterable[int], threshold: float,
        detected: bool,
    ) -> bool:
        """Note this frame's people and say whether any of them slipped.

        Args:
            track_ids: ``(N,)`` int, the people's track IDs.
            mean_scores: ``(N,)`` float, their mean keypoint scores on this frame.
            lost: IDs of tracks that matched no pose on this frame.
            threshold: the re-detect threshold in use.
            detected: True when this frame's boxes came from the detector (every score becomes the anchor).
        """
        lost_now = set(lost)
        slipped = bool(lost_now - self._lost) and not detected
        self._lost = lost_now
        people = zip(np.asarray(track_ids).tolist(), np.asarray(mean_scores).tolist(), strict=True)
        for track_id, score in people:
            anchor = self._anchors.get(track_id)
            if detected or anchor is None:
                self._anchors[track_id] = score
            elif score < threshold and score <= anchor - self.fall:
                slipped = True
        return slipped

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop the anchors of tracks that ended."""
        for track_id in track_ids:
            self._anchors.pop(track_id, None)
            self._lost.discard(track_id)

    def reset(self) -> None:
        """Forget every track (the tracker restarted its IDs)."""
        self._anchors.clear()
        self._lost.clear()
