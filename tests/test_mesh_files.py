"""Geometry in and out: Wavefront OBJ and COMPAS 2 JSON (``catenax.io.mesh_files``).

The counts are exact by construction: a 2 x 2 grid of quads has 3 x 3 = 9
vertices, 2 * 3 + 3 * 2 = 12 edges, 4 faces, and all vertices but the centre
on its boundary; a cube has 8 vertices, 12 edges, 6 faces (V - E + F = 2) and,
being closed, no boundary. The COMPAS tests check the files against the real
``compas`` package (the ``dev`` extra).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from _data import DATA

import catenax
from catenax.io import (
    MeshData,
    boundary_vertices,
    mesh_data,
    read_compas,
    read_mesh,
    read_obj,
    write_compas,
    write_obj,
)


def _obj(tmp_path, text: str, name: str = "roof.obj"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _edge_set(edges) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in np.asarray(edges).tolist()}


def _grid_edges() -> set[tuple[int, int]]:
    """The 12 edges of the 3 x 3 vertex grid (index 3 j + i), written out by rows and columns."""
    rows = {(3 * j + i, 3 * j + i + 1) for j in range(3) for i in range(2)}
    cols = {(3 * j + i, 3 * j + i + 3) for j in range(2) for i in range(3)}
    return rows | cols


# --------------------------------------------------------------------------- OBJ


def test_grid_with_every_face_form_counts_each_edge_once():
    m = read_obj(DATA / "grid2x2.obj")
    assert isinstance(m, MeshData)
    assert m.positions.shape == (9, 3) and m.positions.dtype == np.float64
    # `w` and vertex colours are ignored; the continued line gives (1, 2, 0)
    assert m.positions[3].tolist() == [0.0, 1.0, 0.0]
    assert m.positions[4].tolist() == [1.0, 1.0, 0.5]
    assert m.positions[7].tolist() == [1.0, 2.0, 0.0]
    # a/b/c, a//c, a/b and negative indices all name the same corners
    assert m.faces.tolist() == [[0, 1, 4, 3], [1, 2, 5, 4], [3, 4, 7, 6], [4, 5, 8, 7]]
    assert m.faces.dtype == np.int64 and m.edges.dtype == np.int64
    assert m.edges.shape == (12, 2)
    assert _edge_set(m.edges) == _grid_edges()
    # faces' edges in face order, first-seen orientation
    assert m.edges[:4].tolist() == [[0, 1], [1, 4], [4, 3], [3, 0]]
    assert boundary_vertices(m.faces).tolist() == [0, 1, 2, 3, 5, 6, 7, 8]


def test_closed_cube_has_no_boundary():
    m = read_obj(DATA / "cube.obj")
    v, e, f = len(m.positions), len(m.edges), len(m.faces)
    assert (v, e, f) == (8, 12, 6) and v - e + f == 2
    assert boundary_vertices(m.faces).dtype == np.int64
    assert boundary_vertices(m.faces).tolist() == []


def test_triangles_and_quads_mixed_pad_with_minus_one(tmp_path):
    text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv -1 0 0\nf 1 2 3\nf 1 3 4 5\n"
    m = read_obj(_obj(tmp_path, text))
    assert m.faces.tolist() == [[0, 1, 2, -1], [0, 2, 3, 4]]
    assert _edge_set(m.edges) == {(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (0, 4)}
    # the shared diagonal 0-2 is interior; every other vertex is on the boundary
    assert boundary_vertices(m.faces).tolist() == [0, 1, 2, 3, 4]


def test_lines_become_edges_after_the_faces(tmp_path):
    text = "l 4 5 6 4\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 3 0 0\nv 4 0 0\nv 4 1 0\nf 1 2 3\nl 1 2\n"
    m = read_obj(_obj(tmp_path, text))
    # the polyline 4-5-6-4 closes on itself; "l 1 2" repeats a face edge
    assert m.edges.tolist() == [[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3]]
    assert m.faces.tolist() == [[0, 1, 2]]


def test_lines_only_have_no_faces(tmp_path):
    m = read_obj(_obj(tmp_path, "v 0 0 0\nv 1 0 0\nv 2 0 0\nl 1 2 3\nl -1 -2\n"))
    assert m.edges.tolist() == [[0, 1], [1, 2]]
    assert m.faces.shape == (0, 4)
    assert boundary_vertices(m.faces).tolist() == []


def test_consecutive_repeats_are_dropped(tmp_path):
    # "1 2 2 3" and a last corner equal to the first (a triangle as a quad) lose the repeat
    text = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 2 3\nf 1 3 4 1\nl 2 2 4\n"
    m = read_obj(_obj(tmp_path, text))
    assert m.faces.tolist() == [[0, 1, 2], [0, 2, 3]]
    assert m.edges.tolist() == [[0, 1], [1, 2], [2, 0], [2, 3], [3, 0], [1, 3]]


def test_obj_round_trip_is_exact(tmp_path):
    m = read_obj(DATA / "grid2x2.obj")
    rng = np.random.default_rng(0)
    x = m.positions + rng.normal(size=m.positions.shape)  # digits that need all 17
    extra = np.array([[0, 8], [2, 6]])  # two springs on no face: written as `l` lines
    net = catenax.from_arrays(x, np.concatenate([m.edges, extra]), faces=m.faces)
    back = read_obj(write_obj(tmp_path / "out.obj", x, net))
    assert np.array_equal(back.positions, x)
    assert np.array_equal(back.faces, m.faces)
    assert _edge_set(back.edges) == _edge_set(m.edges) | {(0, 8), (2, 6)}
    assert len(back.edges) == len(m.edges) + 2


def test_write_obj_skips_padding_and_reads_back_mixed_faces(tmp_path):
    x = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1], [-1, 0]])
    faces = np.array([[0, 1, 2, -1], [0, 2, 3, 4]])
    net = catenax.from_arrays(x, [[0, 1], [1, 2], [2, 0], [2, 3], [3, 4], [4, 0]], faces=faces)
    p = write_obj(tmp_path / "mixed.obj", x, net)
    assert "f 1 2 3\n" in p.read_text() and "0\n" not in p.read_text().split("f ", 1)[1]
    back = read_obj(p)
    assert np.array_equal(back.faces, faces)
    assert np.array_equal(back.positions[:, :2], x) and not back.positions[:, 2].any()
    assert "\nl " not in p.read_text()  # every spring is a face edge


def test_read_mesh_dispatches_by_suffix(tmp_path):
    p = _obj(tmp_path, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "TRI.OBJ")
    assert read_mesh(p).faces.tolist() == [[0, 1, 2]]
    q = write_compas(tmp_path / "tri.json", [[0, 0], [1, 0], [0, 1]], [], [[0, 1, 2]])
    assert read_mesh(q).faces.tolist() == [[0, 1, 2]]
    with pytest.raises(ValueError, match=r"^plan\.dxf: not an \.obj or COMPAS \.json file; "):
        read_mesh(tmp_path / "plan.dxf")


V4 = "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            V4 + "f 1 2 40\n",
            r"roof\.obj:5: face refers to vertex 40 but the file has 4 vertices; fix",
        ),
        (V4 + "l 1 9\n", r"roof\.obj:5: line refers to vertex 9 but the file has 4 vertices"),
        ("v 0 0 0\nf -1 -2 -3\nv 1 0 0\n", r"roof\.obj:2: face refers to vertex -2 but only 1 "),
        (V4 + "f 0 1 2\n", r"roof\.obj:5: face refers to vertex 0; OBJ vertex indices start at 1"),
        (V4 + "f 1 2 x\n", r"roof\.obj:5: face corner 'x' is not a vertex index"),
        (V4 + "f 1 2\n", r"roof\.obj:5: a face needs at least 3 different corners, this one has 2"),
        (V4 + "f\n", r"roof\.obj:5: a face needs at least 3 different corners, this one has 0"),
        (V4 + "f 1 1 2 2\n", r"roof\.obj:5: a face needs at least 3 different corners"),
        (
            V4 + "f 1 2 3 2 4\n",
            r"roof\.obj:5: the face visits one vertex twice \(corners 2 and 4\); split it",
        ),
        (V4 + "l 2\n", r"roof\.obj:5: a line needs at least 2 different vertices"),
        (V4 + "l 3 3\n", r"roof\.obj:5: a line needs at least 2 different vertices"),
        ("# nothing\n\nf 1 2 3\n", r"roof\.obj: no vertices \('v' lines\)"),
        ("", r"roof\.obj: no vertices"),
        ("v 0 0\n", r"roof\.obj:1: a vertex needs x y z, got 2 numbers"),
        ("v 0 a 0\n", r"roof\.obj:1: a vertex's x y z must be numbers"),
        ("v 0 nan 0\n", r"roof\.obj:1: a vertex's x y z must be finite numbers"),
        (V4 + "curv 0 1 1 2\n", r"roof\.obj:5: free-form geometry \('curv'\) cannot be read"),
        (V4 + "vertex 1 2 3\n", r"roof\.obj:5: unknown OBJ statement 'vertex'"),
    ],
)
def test_bad_obj_files_are_refused_with_file_line_and_fix(tmp_path, text, words):
    with pytest.raises(ValueError, match="^" + words):
        read_obj(_obj(tmp_path, text))


def test_bad_files_are_refused_before_parsing(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"^roof\.obj: not found \(.*\); check the path"):
        read_obj(tmp_path / "roof.obj")
    (tmp_path / "dir.obj").mkdir()
    with pytest.raises(ValueError, match=r"^dir\.obj: not a regular file"):
        read_obj(tmp_path / "dir.obj")
    (tmp_path / "latin.obj").write_bytes(b"# caf\xe9\nv 0 0 0\n")
    with pytest.raises(ValueError, match=r"^latin\.obj:1: not UTF-8 text \(byte 0xe9\); save"):
        read_obj(tmp_path / "latin.obj")
    (tmp_path / "nul.obj").write_bytes(b"v 0 0 0\nv 1\x000 0\n")
    with pytest.raises(ValueError, match=r"^nul\.obj:2: a NUL character"):
        read_obj(tmp_path / "nul.obj")
    big = _obj(tmp_path, V4 * 10, "big.obj")
    monkeypatch.setattr(mesh_data, "MAX_SCENARIO_BYTES", 64)
    with pytest.raises(ValueError, match=r"^big\.obj: the file is larger than .*limit"):
        read_obj(big)
    with pytest.raises(ValueError, match=r"^big\.json: the file is larger than"):
        read_compas(big.rename(tmp_path / "big.json"))


def test_a_utf8_bom_is_skipped(tmp_path):
    (tmp_path / "bom.obj").write_bytes(b"\xef\xbb\xbfv 0 0 0\nv 1 0 0\nl 1 2\n")
    assert read_obj(tmp_path / "bom.obj").edges.tolist() == [[0, 1]]


def test_boundary_of_an_open_strip_and_of_nothing():
    # two triangles sharing the edge 1-2: the four outer edges are the boundary
    assert boundary_vertices(np.array([[0, 1, 2], [2, 1, 3]])).tolist() == [0, 1, 2, 3]
    # a fan of 3 triangles around 0 plus the cap 1-2-3 closes a tetrahedron
    tet = [[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2]]
    assert boundary_vertices(tet).tolist() == []
    assert boundary_vertices(tet[:3]).tolist() == [1, 2, 3]
    assert boundary_vertices(np.zeros((0, 4), dtype=int)).tolist() == []


# --------------------------------------------------------------------------- COMPAS, without compas


def test_compas_mesh_with_lines_round_trips_without_loss(tmp_path):
    x = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0.25], [0, 1, 0], [2, 0, 0], [3, 0, 1]])
    faces = np.array([[0, 1, 2, 3], [1, 4, 2, -1]])
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [1, 4], [4, 2], [4, 5]])
    p = write_compas(tmp_path / "m.json", x, edges, faces, {"units": {"length": "m"}})
    doc = json.loads(p.read_text())
    assert doc["dtype"] == "compas.datastructures/Mesh"
    assert doc["data"]["attributes"] == {"units": {"length": "m"}, "catenax_lines": [[4, 5]]}
    m = read_compas(p)
    assert np.array_equal(m.positions, x) and np.array_equal(m.faces, faces)
    assert m.edges.tolist() == edges.tolist()


def test_compas_graph_keeps_nodes_without_edges_and_2d_gets_z0(tmp_path):
    p = write_compas(tmp_path / "g.json", [[0, 0], [1, 0], [2, 0.5]], [[0, 1], [1, 0]])
    doc = json.loads(p.read_text())
    assert doc["dtype"] == "compas.datastructures/Graph"
    assert doc["data"]["edge"] == {"0": {"1": {}}, "1": {}, "2": {}}
    m = read_compas(p)
    assert m.positions.tolist() == [[0, 0, 0], [1, 0, 0], [2, 0.5, 0]]
    assert m.edges.tolist() == [[0, 1]] and m.faces.shape == (0, 4)


def _compas_doc(tmp_path, doc, name="x.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_compas_ids_map_to_contiguous_indices_in_id_order(tmp_path):
    data = {
        "vertex": {"10": {"x": 3, "y": 0, "z": 0}, "2": {"x": 1}, "7": {"x": 2, "y": 1}},
        "face": {"5": [2, 7, 10]},
        "default_vertex_attributes": {"x": 0.0, "y": 0.0, "z": 9.0},
    }
    m = read_compas(_compas_doc(tmp_path, {"dtype": "compas.datastructures/Mesh", "data": data}))
    # ids 2, 7, 10 -> 0, 1, 2; missing coordinates take the defaults
    assert m.positions.tolist() == [[1, 0, 9], [2, 1, 9], [3, 0, 0]]
    assert m.faces.tolist() == [[0, 1, 2]]
    graph = {"node": {"'b'": {"x": 1}, "'a'": {}}, "edge": {"'a'": {"'b'": {}}}}
    doc = {"dtype": "my.package/Network", "inheritance": ["compas.datastructures/Graph"]}
    g = read_compas(_compas_doc(tmp_path, {**doc, "data": graph}))
    # keys that are not integers keep the file's order; a subclass reads as its base
    assert g.positions[:, 0].tolist() == [1, 0] and g.edges.tolist() == [[1, 0]]


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (
            {"dtype": "compas.geometry/Box", "data": {}},
            r"a COMPAS 'compas.geometry/Box', not a Mesh or Graph; ",
        ),
        ([1, 2], r"not a COMPAS JSON file \(no 'dtype'\)"),
        ({"vertex": {}}, r"not a COMPAS JSON file"),
        (
            {"dtype": "compas.datastructures/Mesh"},
            r"a COMPAS 'compas.datastructures/Mesh' without its 'data'",
        ),
        (
            {"dtype": "compas.datastructures/Mesh", "data": {"vertex": {}}},
            r"a COMPAS Mesh without 'vertex' and 'face'",
        ),
        (
            {"dtype": "compas.datastructures/Mesh", "data": {"vertex": {}, "face": {}}},
            r"no vertices",
        ),
        (
            {
                "dtype": "compas.datastructures/Mesh",
                "data": {"vertex": {"0": {}, "1": {}}, "face": {"0": [0, 1, 4]}},
            },
            r"face 0: refers to vertex 4 but the mesh has no such vertex \(2 vertices\)",
        ),
        (
            {
                "dtype": "compas.datastructures/Mesh",
                "data": {"vertex": {"0": {}, "1": {}}, "face": {"0": [0, 1]}},
            },
            r"face 0: a face needs at least 3 different corners",
        ),
        (
            {
                "dtype": "compas.datastructures/Mesh",
                "data": {"vertex": {"0": {"x": "1"}}, "face": {}},
            },
            r"vertex 0: x = '1' is not a finite number",
        ),
        (
            {
                "dtype": "compas.datastructures/Graph",
                "data": {"node": {"0": {}}, "edge": {"0": {"3": {}}}},
            },
            r"an edge refers to 3, which is not a vertex",
        ),
        (
            {
                "dtype": "compas.datastructures/Graph",
                "data": {"node": {"0": {}}, "edge": {"0": {"0": {}}}},
            },
            r"an edge joins 0 to itself",
        ),
    ],
)
def test_bad_compas_files_are_refused(tmp_path, doc, words):
    with pytest.raises(ValueError, match=r"^x\.json: " + words):
        read_compas(_compas_doc(tmp_path, doc))


def test_compas_not_json_names_the_line(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"dtype":\n "compas.datastructures/Mesh",\n}')
    with pytest.raises(ValueError, match=r"^x\.json:3: not valid JSON: "):
        read_compas(p)


def test_write_compas_refuses_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"^edges: node indices must lie in 0\.\.1"):
        write_compas(tmp_path / "a.json", [[0, 0], [1, 0]], [[0, 2]])
    with pytest.raises(ValueError, match=r"^edges: edge 1 joins node 1 to itself"):
        write_compas(tmp_path / "a.json", [[0, 0], [1, 0]], [[0, 1], [1, 1]])
    with pytest.raises(ValueError, match=r"^faces: face 0: a face needs at least 3"):
        write_compas(tmp_path / "a.json", [[0, 0], [1, 0]], [[0, 1]], [[0, 1, -1]])
    with pytest.raises(ValueError, match=r"^positions: must be finite"):
        write_compas(tmp_path / "a.json", [[0, np.nan]], [])
    with pytest.raises(ValueError, match=r"unknown suffix '\.obj'"):
        write_compas(tmp_path / "a.obj", [[0, 0], [1, 0]], [[0, 1]])
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- COMPAS, against compas


def test_compas_loads_what_catenax_writes(tmp_path):
    compas = pytest.importorskip("compas")
    m = read_obj(DATA / "grid2x2.obj")
    mesh = compas.json_load(write_compas(tmp_path / "grid.json", m.positions, m.edges, m.faces))
    assert type(mesh).__name__ == "Mesh"
    assert sorted(mesh.vertices()) == list(range(9))
    assert np.array_equal([mesh.vertex_coordinates(v) for v in range(9)], m.positions)
    assert [mesh.face_vertices(f) for f in mesh.faces()] == m.faces.tolist()
    assert _edge_set(list(mesh.edges())) == _grid_edges()
    graph = compas.json_load(
        write_compas(tmp_path / "g.json", [[0, 0], [1, 0], [1, 2]], [[0, 1], [2, 1]])
    )
    assert type(graph).__name__ == "Graph"
    assert list(graph.edges()) == [(0, 1), (2, 1)]
    assert [graph.node_coordinates(n) for n in graph.nodes()] == [[0, 0, 0], [1, 0, 0], [1, 2, 0]]


def test_catenax_reads_what_compas_writes(tmp_path):
    compas = pytest.importorskip("compas")
    from compas.datastructures import Graph, Mesh

    vertices = [[0, 0, 0], [1, 0, 0], [2, 0, 0.5], [0, 1, 0], [1, 1, 1.5]]
    faces = [[0, 1, 4, 3], [1, 2, 4]]
    compas.json_dump(Mesh.from_vertices_and_faces(vertices, faces), tmp_path / "mesh.json")
    m = read_compas(tmp_path / "mesh.json")
    assert m.positions.tolist() == vertices
    assert m.faces.tolist() == [[0, 1, 4, 3], [1, 2, 4, -1]]
    assert _edge_set(m.edges) == {(0, 1), (1, 4), (3, 4), (0, 3), (1, 2), (2, 4)}
    assert boundary_vertices(m.faces).tolist() == [0, 1, 2, 3, 4]

    graph = Graph()
    for key, (x, y) in enumerate([(0, 0), (1, 0), (2, 1), (3, 3)]):
        graph.add_node(key, x=x, y=y, z=0)
    for u, v in [(0, 1), (1, 2), (2, 3), (3, 1)]:
        graph.add_edge(u, v)
    compas.json_dump(graph, tmp_path / "graph.json")
    g = read_compas(tmp_path / "graph.json")
    assert g.positions.tolist() == [[0, 0, 0], [1, 0, 0], [2, 1, 0], [3, 3, 0]]
    assert g.edges.tolist() == [[0, 1], [1, 2], [2, 3], [3, 1]]
    assert g.faces.shape == (0, 4)


def test_a_compas_file_of_another_type_is_refused(tmp_path):
    compas = pytest.importorskip("compas")
    from compas.geometry import Box

    compas.json_dump(Box(1.0), tmp_path / "box.json")
    with pytest.raises(
        ValueError, match=r"^box\.json: a COMPAS 'compas\.geometry/Box', not a Mesh or Graph"
    ):
        read_compas(tmp_path / "box.json")
