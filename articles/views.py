from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from articles import selectors
from articles.models import Author, Section
from core import pagecache
from petitions.selectors import petition_featured_box


@require_GET
@pagecache.shared_page(live=True)
def home(request):
    return render(
        request,
        "home.html",
        {"articles": selectors.articles_latest(limit=10), "featured_petition": petition_featured_box()},
    )


@require_GET
@pagecache.shared_page(query={"page": pagecache.small_page_number})
def article_list(request):
    page = selectors.article_page(page_number=request.GET.get("page"))
    return render(request, "articles/article_list.html", {"page": page})


@require_GET
@pagecache.shared_page(query={"page": pagecache.small_page_number})
def section_detail(request, slug: str):
    section = get_object_or_404(Section, slug=slug)
    page = selectors.article_page(page_number=request.GET.get("page"), section=section)
    return render(request, "articles/section_detail.html", {"section": section, "page": page})


@require_GET
def author_detail(request, slug: str):
    author = get_object_or_404(Author, slug=slug)
    page = selectors.article_page(page_number=request.GET.get("page"), author=author)
    return render(request, "articles/author_detail.html", {"author": author, "page": page})


@require_GET
@pagecache.shared_page(live=True)
def article_detail(request, slug: str):
    article = selectors.article_for_reader(slug=slug, user=request.user)
    images = list(article.images.all())
    return render(
        request,
        "articles/article_detail.html",
        {"article": article, "lead_image": images[0] if images else None, "image_count": len(images)},
    )


@require_GET
@pagecache.shared_page()
def article_gallery(request, slug: str):
    article = selectors.article_for_reader(slug=slug, user=request.user)
    return render(request, "articles/article_gallery.html", {"article": article, "images": list(article.images.all())})


@require_GET
def search(request):
    raw = request.GET.get("q", "")
    terms = selectors.search_terms(raw)
    page = selectors.article_search(query=terms, page_number=request.GET.get("page"))
    return render(
        request,
        "articles/search.html",
        {"query": terms, "search_query": terms, "page": page, "truncated": len(raw) > selectors.SEARCH_MAX_QUERY},
    )
