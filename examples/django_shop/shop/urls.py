from django.urls import path
from notes import views

urlpatterns = [
    path("notes/<str:owner>/", views.notes),
    path("notes/<str:owner>/<uuid:note_id>/", views.note),
    path("whoami/<str:owner>/", views.whoami),
]
