"""Long inputs: a 147-token paragraph
==================================

The opening of *A Tale of Two Cities* (147 tokens) through all-MiniLM-L6-v2. In the model
view, each line thumbnail is the exact ink of its lines at the output resolution (lines
are thinner than a pixel here), so head patterns stay visible instead of a solid block;
the heatmap grid keeps each pixel's strongest cell (``reduce="max"``). ``span=`` shows one
part of the paragraph with every token named by its original position, and says how much
of its attention goes elsewhere; ``highlight=`` keeps chosen tokens labelled on a
heatmap of the whole paragraph.
"""
import attnfig
from _seed import model, publish
from attnfig.testing import TALE_OF_TWO_CITIES as TALE
from matplotlib.figure import Figure

attention = attnfig.from_model(*model(), TALE)
publish(attnfig.model_view(attention), "long_model_view")
publish(attnfig.model_view(attention, kind="heatmap"), "long_model_view_heatmap")
publish(attnfig.head_view(attention, layer=2, span=(20, 60)), "long_head_view_span")

fig = Figure(layout="constrained")
contrasts = [i for i, token in enumerate(attention.tokens) if token in ("light", "darkness", "hope", "despair")]
attnfig.heatmap(attention, layer=2, head=3, highlight=contrasts, ax=fig.subplots())
publish(fig, "long_heatmap_highlight")
