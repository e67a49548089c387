"""Seed notebook 000 (toydl lineage), cell by cell, with only the imports changed."""

import math
import re

from chainrule.scalar import Scalar, topological_sort
from chainrule.scalar.nn import ActivationType, MLPBinaryClassifyNetFactory, MLPConfig

REPR = re.compile(
    r"Scalar\(name=(?P<name>[^,]+), unique_id=(?P<uid>\d+), "
    r"data=(?P<data>-?\d+\.\d{4}), derivative=(?P<derivative>None|-?\d+(\.\d+)?(e-?\d+)?)\)"
)


def parse(s: Scalar) -> dict:
    match = REPR.fullmatch(repr(s))
    assert match is not None, repr(s)
    return match.groupdict()


def test_linear_expression_cells():
    x1 = Scalar(1.0, name="x1")
    x1.requires_grad_()
    x2 = Scalar(2.0, name="x2")
    x2.requires_grad_()
    y = Scalar(3, name="x1_coef") * x1 + Scalar(5, name="x2_coef") * x2
    y.name = "y"

    shown = parse(y)
    assert shown["name"] == "y"
    assert shown["data"] == "13.0000"
    assert shown["derivative"] == "None"
    # The notebook shows x1 as id 68 and y as 74: six Scalars are created from x1 to y inclusive.
    assert int(shown["uid"]) == y.unique_id == x1.unique_id + 6

    order = topological_sort(y)
    assert len(order) == 5
    assert order[0] is y
    assert order[2] is x2 and order[4] is x1
    product_x2, product_x1 = order[1], order[3]
    assert product_x2.parents == (x2,) and product_x2.data == 10.0
    assert product_x1.parents == (x1,) and product_x1.data == 3.0
    names = {node.name for node in order}
    assert "x1_coef" not in names and "x2_coef" not in names

    y.backward(d_output=1.0)
    assert math.isclose(x1.derivative, 3.0)
    assert math.isclose(x2.derivative, 5.0)
    shown = parse(x1)
    assert (shown["name"], shown["data"], shown["derivative"]) == ("x1", "1.0000", "3.0")
    assert int(shown["uid"]) == x1.unique_id


def test_mlp_cells():
    marker = Scalar(0.0)
    mlp_config = MLPConfig(
        in_size=2,
        out_size=1,
        hidden_layer_size=3,
        hidden_layer_num=1,
        hidden_activation=ActivationType.SIGMOID,
    )
    mlp = MLPBinaryClassifyNetFactory(mlp_config)
    named = list(mlp.named_parameters())
    for p in named:
        print(p)

    assert [name for name, _ in named] == [
        "layer_input_hidden_0.weight_0_0",
        "layer_input_hidden_0.weight_0_1",
        "layer_input_hidden_0.weight_0_2",
        "layer_input_hidden_0.weight_1_0",
        "layer_input_hidden_0.weight_1_1",
        "layer_input_hidden_0.weight_1_2",
        "layer_input_hidden_0.bias_0",
        "layer_input_hidden_0.bias_1",
        "layer_input_hidden_0.bias_2",
        "layer_hidden_output.weight_0_0",
        "layer_hidden_output.weight_1_0",
        "layer_hidden_output.weight_2_0",
        "layer_hidden_output.bias_0",
    ]
    # The notebook prints ('layer_input_hidden_0.weight_0_0', Scalar(name=weight_0_0, unique_id=75, ...))
    # right after y (74): the first weight is the next Scalar created.
    first = parse(named[0][1])
    assert first["name"] == "weight_0_0" and first["derivative"] == "None"
    assert int(first["uid"]) == marker.unique_id + 1
    for dotted, param in named:
        assert parse(param)["name"] == dotted.rsplit(".", 1)[1]
        assert param.requires_grad and param.derivative is None
        assert -1.0 <= param.data <= 1.0

    x1 = Scalar(1.0, name="x1")
    x2 = Scalar(2.0, name="x2")
    y = mlp.forward((x1, x2))
    y.name = "y"
    assert 0.0 < y.data < 1.0
    y.backward(d_output=1.0)
    assert all(param.derivative is not None for _, param in named)
    assert any(param.derivative != 0.0 for _, param in named)
    assert x1.derivative is None and x2.derivative is None
