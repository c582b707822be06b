"""Static neuron view: how one query's scores are built
====================================================

BertViz's neuron view as a figure: for "rabbit" in layer 2, head 3 of all-MiniLM-L6-v2,
the query vector, every key vector, their element-wise product, the scores (the product
summed and scaled) and the softmax weights, taken from the model's own attention call.
"""
import attnfig
from _seed import PAIR, TEXT, model, publish

view = attnfig.neuron_view(*model(), TEXT, PAIR, layer=2, head=3, query=2)
publish(attnfig.plot_neuron_view(view), "neuron_view")
