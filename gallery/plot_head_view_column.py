"""Head view at one column
=======================

`with attnfig.style("acl"): head_view(attention, layer=2)` as a paper author calls it: the
figure fills the ACL column (7.7 cm), the twelve heads of layer 2 drawn as small multiples
(one panel per head: no blended colors), queries headed on the left and keys on the right,
sentences A and B marked beside both columns.
"""
import attnfig
from _seed import publish, seed_attention

attention = seed_attention()
with attnfig.style("acl"):
    fig = attnfig.head_view(attention, layer=2)
publish(fig, "head_view_acl")
