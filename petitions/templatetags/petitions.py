from django import template

from petitions.selectors import petition_box

register = template.Library()


@register.inclusion_tag("petitions/includes/petition_box.html")
def petition_box_for(petition):
    """A petition's live count, goal, progress and a button to sign, e.g. beside an article that supports it.
    The figures come from the petition page's briefly cached statistics, so the box costs no query in a surge."""
    return {"box": petition_box(petition=petition)}
