"""kit.pictures.heat_maps: yours beside torch's, differing cells outlined, anything a learner returns drawn or named."""
import torch

from kit.pictures import MOST_CELLS, grid, heat_maps

TORCH = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=torch.float64)
OUTLINE = 'stroke-width="2"'


def test_each_differing_cell_is_outlined_once_and_matching_cells_never():
    yours = TORCH.clone()
    yours[0, 1], yours[1, 2] = 2.0, -1.0 + 1e-3
    svg = heat_maps([("dx", yours, TORCH)], "title")
    assert svg.count(OUTLINE) == 2
    assert heat_maps([("dx", TORCH.clone(), TORCH)], "title").count(OUTLINE) == 0
    assert heat_maps([("dx", TORCH + 1e-12, TORCH)], "title").count(OUTLINE) == 0  # within the tolerance


def test_not_a_grid_or_another_shape_is_named_and_torchs_still_drawn():
    for yours, said in ((None, "not a grid"), (3.0, "not a grid"), (TORCH.T, "another shape"),
                        (torch.zeros(2, 2, 2), "not a grid"), ("text", "not a grid")):
        svg = heat_maps([("dw", yours, TORCH)], "title")
        assert said in svg and svg.count("<rect") == TORCH.numel()


def test_nan_and_huge_values_are_drawn_as_missing_and_differ():
    yours = TORCH.clone()
    yours[0, 0], yours[1, 1] = float("nan"), 1e300
    svg = heat_maps([("db", yours, TORCH)], "title")
    assert svg.count(OUTLINE) == 2 and "= none" in svg


def test_labels_and_titles_are_escaped():
    svg = heat_maps([("<script>", TORCH, TORCH)], "a & <b>", note="<i>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; &lt;b&gt;" in svg


def test_a_large_grid_shows_its_corner_only():
    big = torch.arange(400, dtype=torch.float64).reshape(20, 20)
    assert len(grid(big)) == MOST_CELLS and len(grid(big)[0]) == MOST_CELLS
    assert heat_maps([("dx", big, big)], "t").count("<rect") == 2 * MOST_CELLS ** 2
